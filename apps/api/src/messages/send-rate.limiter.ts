import { Inject, Injectable } from '@nestjs/common';
import { newId } from '@wagw/domain';
import { DataSource } from 'typeorm';

export type RateDecision =
  | { ok: true; slotId: string }
  | { ok: false; retryAfterSeconds: number; limit: number; window: 'minute' | 'hour' };

/**
 * `ratePerMin` / `ratePerHour` of a session, exact across API replicas: the accepted sends of
 * the last hour are rows in Postgres, and a send takes a slot under the session's transaction
 * lock after counting both sliding windows, by the database's clock, in one statement. The
 * limits are read under the same lock, so a PATCH applies to the next send. A send that is not
 * accepted after all (the gateway refused it or did not answer) gives its slot back: only
 * accepted sends count.
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

  /** One statement: the lock, both windows, the slot (`wagw_take_send_slot`, a migration). */
  private async takeNow(organizationId: string, sessionId: string): Promise<RateDecision | null> {
    const slotId = newId();
    const [row]: {
      ok: boolean;
      window_name: 'minute' | 'hour' | null;
      rate_limit: number | null;
      retry_after: number | null;
    }[] = await this.dataSource.query(`SELECT * FROM wagw_take_send_slot($1, $2, $3)`, [
      sessionId,
      organizationId,
      slotId,
    ]);
    if (!row) return null;
    if (row.ok) return { ok: true, slotId };
    return {
      ok: false,
      window: row.window_name!,
      limit: row.rate_limit!,
      retryAfterSeconds: row.retry_after!,
    };
  }

  /** The send was not accepted after all: its slot does not count. */
  async giveBack(sessionId: string, slotId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM message_send_slots WHERE session_id = $1 AND slot_id = $2`,
      [sessionId, slotId],
    );
  }
}
