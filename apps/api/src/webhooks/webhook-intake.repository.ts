import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type IntakeEvent, WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';

const INTAKE_ROW = 'default';

/** What an UPDATE answers through TypeORM: [rows, count]. */
type Updated = [{ cursor: string | null }[], number];

/**
 * The intake's position and lease. One replica at a time takes events in (ordered, so queue
 * order is stream order); its position moves in the same transaction that queues the
 * deliveries, fenced by the lease, so each event is queued once whatever crashes when.
 */
@Injectable()
export class WebhookIntakeRepository {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WebhookDeliveriesRepository) private readonly deliveries: WebhookDeliveriesRepository,
  ) {}

  /**
   * Takes (or renews) the lease for `holder`. Returns the position (null before the first
   * start), or undefined when another replica holds a live lease.
   */
  async acquire(holder: string, leaseMs: number): Promise<number | null | undefined> {
    const [rows]: Updated = await this.dataSource.query(
      `UPDATE webhook_intake
          SET holder = $2, lease_expires_at = now() + $3::bigint * interval '1 millisecond'
        WHERE id = $1 AND (holder = $2 OR holder IS NULL OR lease_expires_at < now())
       RETURNING cursor`,
      [INTAKE_ROW, holder, leaseMs],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.cursor === null ? null : Number(row.cursor);
  }

  /** Sets the position (first start, or the stream was reset); false when the lease is lost. */
  async reposition(holder: string, cursor: number): Promise<boolean> {
    const [, count]: Updated = await this.dataSource.query(
      `UPDATE webhook_intake SET cursor = $3
        WHERE id = $1 AND holder = $2 AND lease_expires_at > now()`,
      [INTAKE_ROW, holder, cursor],
    );
    return count > 0;
  }

  /**
   * Queues the deliveries of `events` and moves the position from `from` to `to`, renewing
   * the lease, in one transaction; nothing happens (false) unless this holder still has a live
   * lease at `from`. Returns the number of deliveries queued, or false.
   */
  async commit(
    holder: string,
    leaseMs: number,
    from: number,
    to: number,
    events: readonly IntakeEvent[],
  ): Promise<number | false> {
    return this.dataSource.transaction(async (manager) => {
      const [, count]: Updated = await manager.query(
        `UPDATE webhook_intake
            SET cursor = $4, lease_expires_at = now() + $5::bigint * interval '1 millisecond'
          WHERE id = $1 AND holder = $2 AND cursor = $3 AND lease_expires_at > now()`,
        [INTAKE_ROW, holder, from, to, leaseMs],
      );
      if (count === 0) return false;
      return this.deliveries.enqueue(manager, events);
    });
  }

  /** Hands the lease over at shutdown, so another replica takes over at once. */
  async release(holder: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_intake SET holder = NULL, lease_expires_at = NULL WHERE id = $1 AND holder = $2`,
      [INTAKE_ROW, holder],
    );
  }
}
