import { Inject, Injectable } from '@nestjs/common';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { DataSource } from 'typeorm';

/**
 * Folds gateway events into session rows. Every event carries the holder's whole view of the
 * session (`state`); the row takes the snapshot only when the event comes from the row's
 * current lease epoch and is newer (epoch, seq) than the last one folded. So events can be
 * published, redelivered and folded concurrently and in any order, and a stale owner's late
 * events change nothing. One conditional UPDATE per event.
 */
@Injectable()
export class SessionFoldRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Returns whether the row changed. */
  async apply(event: AnyGatewayEvent): Promise<boolean> {
    const { sessionId, fence, state } = event;
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `UPDATE sessions SET
         status = $4, gateway_id = $5, status_reason = $6,
         phone_number = $7, wa_jid = $8, wa_lid = $9,
         qr = $10, qr_expires_at = to_timestamp($11::double precision / 1000),
         last_connected_at = GREATEST(last_connected_at, to_timestamp($12::double precision / 1000)),
         status_epoch = $2, status_seq = $3, updated_at = now()
       WHERE id = $1 AND epoch = $2 AND (status_epoch, status_seq) < ($2::bigint, $3::bigint)`,
      [
        sessionId,
        fence.epoch,
        fence.seq,
        state.status,
        state.gatewayId,
        state.reason,
        state.phoneNumber,
        state.waJid,
        state.waLid,
        state.qr,
        state.qrExpiresAt,
        state.lastConnectedAt,
      ],
    );
    return affected > 0;
  }
}
