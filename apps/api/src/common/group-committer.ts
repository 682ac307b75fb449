/**
 * Group commit per key: while one batch of a key is being written, the items submitted for that
 * key wait and then go together in the next batch. A lone item waits only for the end of the
 * current event-loop turn; under contention one transaction carries many items instead of each
 * waiting its turn for the same lock. Different keys never wait for each other.
 */
export class GroupCommitter<T, R> {
  private readonly groups = new Map<
    string,
    { pending: Entry<T, R>[]; inFlight: boolean; scheduled: boolean }
  >();

  constructor(
    /** Writes one batch of one key; returns one result per item, in order. */
    private readonly commit: (key: string, items: readonly T[]) => Promise<readonly R[]>,
    private readonly maxBatch = 500,
  ) {}

  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) {
        group = { pending: [], inFlight: false, scheduled: false };
        this.groups.set(key, group);
      }
      group.pending.push({ item, resolve, reject });
      if (!group.inFlight && !group.scheduled) {
        group.scheduled = true;
        setImmediate(() => this.flush(key));
      }
    });
  }

  private flush(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    group.scheduled = false;
    if (group.pending.length === 0) {
      this.groups.delete(key);
      return;
    }
    const batch = group.pending.splice(0, this.maxBatch);
    group.inFlight = true;
    this.commit(
      key,
      batch.map((e) => e.item),
    )
      .then(
        (results) => {
          if (results.length !== batch.length)
            throw new Error(`a batch of ${batch.length} got ${results.length} results`);
          batch.forEach((entry, i) => entry.resolve(results[i]!));
        },
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .catch((error: unknown) => batch.forEach((entry) => entry.reject(error)))
      .finally(() => {
        group.inFlight = false;
        this.flush(key);
      });
  }
}

interface Entry<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}
