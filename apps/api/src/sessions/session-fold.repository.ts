import { Inject, Injectable } from '@nestjs/common';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { DataSource } from 'typeorm';

/**
 * Folds gateway events into session rows. An event changes a row only when it comes from the
 * row's current lease epoch and is newer (epoch, seq) than the last one folded, so redelivered,
 * reordered or stale-owner events change nothing. One conditional UPDATE per event.
 */
@Injectable()
export class SessionFoldRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Returns whether the row changed. */
  async apply(event: AnyGatewayEvent): Promise<boolean> {
    const { sessionId, fence } = event;
    const guard = `id = $1 AND epoch = $2 AND (status_epoch, status_seq) < ($2::bigint, $3::bigint)`;
    const base = [sessionId, fence.epoch, fence.seq];
    let sql: string;
    let params: unknown[];
    switch (event.type) {
      case 'session.status': {
        const { status, gatewayId, reason } = event.data;
        sql = `UPDATE sessions SET status = $4, gateway_id = $5, status_reason = $6,
                 last_connected_at = CASE WHEN $4 = 'working' THEN to_timestamp($7::double precision / 1000) ELSE last_connected_at END,
                 qr = CASE WHEN $4 = 'scan_qr_code' THEN qr ELSE NULL END,
                 qr_expires_at = CASE WHEN $4 = 'scan_qr_code' THEN qr_expires_at ELSE NULL END,
                 status_epoch = $2, status_seq = $3, updated_at = now()
               WHERE ${guard}`;
        params = [...base, status, gatewayId, reason, event.occurredAt];
        break;
      }
      case 'auth.qr':
        sql = `UPDATE sessions SET qr = $4, qr_expires_at = to_timestamp($5::double precision / 1000),
                 status_epoch = $2, status_seq = $3, updated_at = now()
               WHERE ${guard}`;
        params = [...base, event.data.qr, event.data.expiresAt];
        break;
      case 'session.paired':
        sql = `UPDATE sessions SET phone_number = $4, wa_jid = $5, wa_lid = $6, qr = NULL, qr_expires_at = NULL,
                 status_epoch = $2, status_seq = $3, updated_at = now()
               WHERE ${guard}`;
        params = [...base, event.data.phoneNumber, event.data.waJid, event.data.waLid];
        break;
      case 'session.logged_out':
        sql = `UPDATE sessions SET phone_number = NULL, wa_jid = NULL, wa_lid = NULL, qr = NULL, qr_expires_at = NULL,
                 status_epoch = $2, status_seq = $3, updated_at = now()
               WHERE ${guard}`;
        params = base;
        break;
      case 'auth.pairing_code':
      case 'message.received':
      case 'message.sent':
      case 'message.ack':
      case 'channel.message':
        // They do not change the session row.
        return false;
    }
    const [, affected]: [unknown, number] = await this.dataSource.query(sql, params);
    return affected > 0;
  }
}
