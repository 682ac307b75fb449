import { Inject, Injectable } from '@nestjs/common';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { sessionsLockedInIdOrder } from '@wagw/persistence';
import { DataSource } from 'typeorm';

/**
 * Folds gateway events into session rows. Every event carries the holder's whole view of the
 * session (`state`); a row takes a snapshot only when the event comes from the row's current
 * lease — the gateway whose claim set the row's epoch (`claimed_by`, kept after a release so
 * the holder's last events still land), at that epoch, for the row's organization — and is
 * newer (epoch, seq) than the last one folded. So events can be published, redelivered and
 * folded concurrently and in any order, a stale owner's late events change nothing, and
 * neither does an event from anyone else who can publish on the event subjects. A whole batch
 * is one UPDATE (a fleet takeover folds thousands of events at once).
 */
@Injectable()
export class SessionFoldRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Returns how many rows changed. */
  async apply(events: readonly AnyGatewayEvent[]): Promise<number> {
    // UPDATE ... FROM takes one arbitrary source row per target: keep each session's newest.
    const newest = new Map<string, AnyGatewayEvent>();
    for (const event of events) {
      const seen = newest.get(event.sessionId);
      const newer =
        !seen ||
        event.fence.epoch > seen.fence.epoch ||
        (event.fence.epoch === seen.fence.epoch && event.fence.seq > seen.fence.seq);
      if (newer) newest.set(event.sessionId, event);
    }
    if (newest.size === 0) return 0;
    const rows = [...newest.values()];
    const column = <T>(pick: (e: AnyGatewayEvent) => T): T[] => rows.map(pick);
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `WITH ${sessionsLockedInIdOrder('id = ANY($1::bpchar[])')}
       UPDATE sessions s SET
         status = v.status, gateway_id = v.gateway_id, status_reason = v.reason,
         phone_number = v.phone_number, wa_jid = v.wa_jid, wa_lid = v.wa_lid,
         qr = v.qr, qr_expires_at = to_timestamp(v.qr_expires_at / 1000),
         last_connected_at = GREATEST(s.last_connected_at, to_timestamp(v.last_connected_at / 1000)),
         status_epoch = v.epoch, status_seq = v.seq, updated_at = now()
       FROM unnest($1::bpchar[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                   $7::text[], $8::text[], $9::text[], $10::text[], $11::float8[], $12::float8[],
                   $13::text[], $14::text[])
         AS v(id, epoch, seq, status, gateway_id, reason, phone_number, wa_jid, wa_lid, qr,
              qr_expires_at, last_connected_at, organization_id, fenced_by)
       WHERE s.id = v.id AND s.id IN (SELECT id FROM locked)
         AND s.organization_id = v.organization_id
         AND s.epoch = v.epoch AND s.claimed_by = v.fenced_by
         AND (s.status_epoch, s.status_seq) < (v.epoch, v.seq)`,
      [
        column((e) => e.sessionId),
        column((e) => e.fence.epoch),
        column((e) => e.fence.seq),
        column((e) => e.state.status),
        column((e) => e.state.gatewayId),
        column((e) => e.state.reason),
        column((e) => e.state.phoneNumber),
        column((e) => e.state.waJid),
        column((e) => e.state.waLid),
        column((e) => e.state.qr),
        column((e) => e.state.qrExpiresAt),
        column((e) => e.state.lastConnectedAt),
        column((e) => e.organizationId),
        column((e) => e.fence.gatewayId),
      ],
    );
    return affected;
  }
}
