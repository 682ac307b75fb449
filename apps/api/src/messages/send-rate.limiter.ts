import { Inject, Injectable } from '@nestjs/common';
import { newId } from '@wagw/domain';
import { DataSource } from 'typeorm';

export type RateDecision =
  | { ok: true; slotId: string }
  | { ok: false; retryAfterSeconds: number; limit: number; window: 'minute' | 'hour' };

/**
 * `ratePerMin` / `ratePerHour` of a session, exact across API replicas: the accepted sends of
 * the last hour are rows in Postgres, and a send takes a slot under the session's transaction
 * lock after counting both sliding windows, by the database's clock. The limits are read in the
 * same transaction, so a PATCH applies to the next send. A send that is not accepted after all
 * (the gateway refused it or did not answer) gives its slot back: only accepted sends count.
 */
@Injectable()
export class SendRateLimiter {
  /**
   * This replica's takes of one session, one after the other: waiting for the session's lock
   * in Postgres would hold a pool connection per waiting request (a burst on one session
   * would take the whole pool); here at most one per replica and session waits there.
   */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  take(organizationId: string, sessionId: string): Promise<RateDecision | null> {
    const previous = this.queues.get(sessionId) ?? Promise.resolve();
    const mine = previous.then(
      () => this.takeNow(organizationId, sessionId),
      () => this.takeNow(organizationId, sessionId),
    );
    this.queues.set(sessionId, mine);
    void mine.then(
      () => this.queues.get(sessionId) === mine && this.queues.delete(sessionId),
      () => this.queues.get(sessionId) === mine && this.queues.delete(sessionId),
    );
    return mine;
  }

  private takeNow(organizationId: string, sessionId: string): Promise<RateDecision | null> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('wagw-send:' || $1))`, [
        sessionId,
      ]);
      const [row]: {
        rate_per_min: number;
        rate_per_hour: number;
        in_minute: string;
        in_hour: string;
        retry_minute: string | null;
        retry_hour: string | null;
      }[] = await manager.query(
        `SELECT s.rate_per_min, s.rate_per_hour,
           (SELECT count(*) FROM message_send_slots
             WHERE session_id = s.id AND taken_at > now() - interval '1 minute') AS in_minute,
           (SELECT count(*) FROM message_send_slots
             WHERE session_id = s.id AND taken_at > now() - interval '1 hour') AS in_hour,
           (SELECT ceil(extract(epoch FROM max(taken_at) + interval '1 minute' - now()))
              FROM (SELECT taken_at FROM message_send_slots
                    WHERE session_id = s.id AND taken_at > now() - interval '1 minute'
                    ORDER BY taken_at DESC OFFSET GREATEST(s.rate_per_min - 1, 0)) w) AS retry_minute,
           (SELECT ceil(extract(epoch FROM max(taken_at) + interval '1 hour' - now()))
              FROM (SELECT taken_at FROM message_send_slots
                    WHERE session_id = s.id AND taken_at > now() - interval '1 hour'
                    ORDER BY taken_at DESC OFFSET GREATEST(s.rate_per_hour - 1, 0)) w) AS retry_hour
         FROM sessions s WHERE s.id = $1 AND s.organization_id = $2`,
        [sessionId, organizationId],
      );
      if (!row) return null;
      if (Number(row.in_minute) >= row.rate_per_min) {
        return {
          ok: false,
          window: 'minute',
          limit: row.rate_per_min,
          retryAfterSeconds: Math.max(1, Number(row.retry_minute ?? 1)),
        };
      }
      if (Number(row.in_hour) >= row.rate_per_hour) {
        return {
          ok: false,
          window: 'hour',
          limit: row.rate_per_hour,
          retryAfterSeconds: Math.max(1, Number(row.retry_hour ?? 1)),
        };
      }
      const slotId = newId();
      await manager.query(
        `INSERT INTO message_send_slots (session_id, slot_id, taken_at) VALUES ($1, $2, now())`,
        [sessionId, slotId],
      );
      // What no window can count any more goes, a few rows at a time, under the same lock.
      await manager.query(
        `DELETE FROM message_send_slots WHERE session_id = $1 AND taken_at < now() - interval '1 hour'`,
        [sessionId],
      );
      return { ok: true, slotId };
    });
  }

  /** The send was not accepted after all: its slot does not count. */
  async giveBack(sessionId: string, slotId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM message_send_slots WHERE session_id = $1 AND slot_id = $2`,
      [sessionId, slotId],
    );
  }
}
