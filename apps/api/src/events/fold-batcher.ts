import type { AnyGatewayEvent } from '@wagw/contracts';

interface Pending {
  event: AnyGatewayEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Turns concurrent single-event calls (the consumer handles many events at once) into batches:
 * events arriving while a batch is being written form the next one. Each caller's promise
 * settles with its batch, so an event is acknowledged only once it has been folded.
 */
export class FoldBatcher {
  private pending: Pending[] = [];
  private writing = false;

  constructor(
    private readonly write: (events: readonly AnyGatewayEvent[]) => Promise<unknown>,
    private readonly maxBatch = 500,
  ) {}

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
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
