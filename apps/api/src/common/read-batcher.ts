/**
 * Coalesces the point reads made in one turn of the event loop into one query: under load the
 * requests parsed together share a round trip to Postgres (fewer statements, fewer syscalls);
 * alone, a read waits only for the end of the current turn. Batches run in parallel.
 */
export class ReadBatcher<K, V> {
  private pending = new Map<
    string,
    { key: K; waiters: ((value: V | undefined) => void)[]; fail: ((e: unknown) => void)[] }
  >();
  private scheduled = false;

  constructor(
    private readonly fetch: (keys: readonly K[]) => Promise<Map<string, V>>,
    private readonly keyOf: (key: K) => string,
    private readonly maxBatch = 256,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const id = this.keyOf(key);
      const entry = this.pending.get(id);
      if (entry) {
        entry.waiters.push(resolve);
        entry.fail.push(reject);
      } else {
        this.pending.set(id, { key, waiters: [resolve], fail: [reject] });
      }
      if (this.pending.size >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.fetch([...batch.values()].map((e) => e.key)).then(
      (found) => {
        for (const [id, entry] of batch)
          for (const resolve of entry.waiters) resolve(found.get(id));
      },
      (error: unknown) => {
        for (const entry of batch.values()) for (const reject of entry.fail) reject(error);
      },
    );
  }
}
