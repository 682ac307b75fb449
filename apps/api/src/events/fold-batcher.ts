import type { AnyGatewayEvent } from '@wagw/contracts';
import { PoisonEventError } from '@wagw/messaging';

interface Pending {
  event: AnyGatewayEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface FoldBatcherOptions {
  maxBatch?: number;
  /**
   * Whether a write that failed for ONE event failed because of that event (its data), not
   * because of the moment (database down): such an event is poison and is rejected with
   * PoisonEventError, so the consumer dead-letters it instead of redelivering it.
   */
  isPoison?: (error: unknown) => boolean;
}

/**
 * Turns concurrent single-event calls (the consumer handles many events at once) into batches:
 * events arriving while a batch is being written form the next one. Each caller's promise
 * settles with its batch, so an event is acknowledged only once it has been folded.
 *
 * A failed batch is written again one event at a time, so one bad event cannot fail the good
 * ones beside it (they would otherwise come back together on every redelivery).
 */
export class FoldBatcher {
  private pending: Pending[] = [];
  private writing = false;
  private readonly maxBatch: number;
  private readonly isPoison: (error: unknown) => boolean;

  constructor(
    private readonly write: (events: readonly AnyGatewayEvent[]) => Promise<unknown>,
    options: FoldBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.isPoison = options.isPoison ?? (() => false);
  }

  fold(event: AnyGatewayEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      // Let the calls made in this tick join the first batch.
      await new Promise((r) => setImmediate(r));
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          await this.write(batch.map((p) => p.event));
          for (const p of batch) p.resolve();
        } catch (error) {
          if (batch.length === 1) this.fail(batch[0]!, error);
          else await this.oneByOne(batch);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async oneByOne(batch: readonly Pending[]): Promise<void> {
    for (const p of batch) {
      try {
        await this.write([p.event]);
        p.resolve();
      } catch (error) {
        this.fail(p, error);
      }
    }
  }

  private fail(p: Pending, error: unknown): void {
    p.reject(
      this.isPoison(error)
        ? new PoisonEventError(`event ${p.event.id} cannot be folded`, { cause: error })
        : error,
    );
  }
}
