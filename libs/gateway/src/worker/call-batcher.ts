/**
 * Calls that arrive while a batch is under way go together in the next batch: a burst of a
 * thousand calls costs a few statements, not a thousand round trips queued one behind the
 * other (on the two-connection lease pool, ahead of the lease renewal). `run` answers each
 * input of a batch, in order; when it throws, every call of that batch rejects with it.
 */
export class CallBatcher<I, R> {
  private pending: { input: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(private readonly run: (inputs: readonly I[]) => Promise<readonly R[]>) {}

  call(input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.next());
      }
    });
  }

  private async next(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const results = await this.run(batch.map((c) => c.input));
      batch.forEach((c, i) => c.resolve(results[i] as R));
    } catch (error) {
      for (const c of batch) c.reject(error);
    } finally {
      if (this.pending.length > 0) setImmediate(() => void this.next());
      else this.running = false;
    }
  }
}
