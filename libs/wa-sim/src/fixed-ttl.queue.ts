/**
 * Expiry for many keys that all share one TTL, driven by a single timer. Because every entry
 * lives exactly `ttlMs`, expiry order is insertion order: a Map (which keeps insertion order)
 * is the whole priority queue, re-adding a key moves it to the back, and the one timer always
 * targets the head. Thousands of pairing connections therefore cost one timer, not thousands.
 */
export class FixedTtlQueue<K> {
  private readonly expiries = new Map<K, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly onExpire: (key: K) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.expiries.size;
  }

  /** (Re)starts the key's TTL; returns its expiry time. */
  add(key: K): number {
    const expiresAt = this.now() + this.ttlMs;
    this.expiries.delete(key);
    this.expiries.set(key, expiresAt);
    this.schedule();
    return expiresAt;
  }

  delete(key: K): void {
    // The timer may now fire for nothing; it then simply re-arms for the new head.
    this.expiries.delete(key);
  }

  expiresAt(key: K): number | undefined {
    return this.expiries.get(key);
  }

  clear(): void {
    this.expiries.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const head = this.expiries.values().next();
    if (head.done) return;
    if (this.timer && this.timerAt <= head.value) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = head.value;
    this.timer = setTimeout(() => this.fire(), Math.max(0, head.value - this.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = this.now();
    for (const [key, expiresAt] of this.expiries) {
      if (expiresAt > now) break;
      this.expiries.delete(key);
      // onExpire may re-add the key: it lands at the back with a future expiry, so the loop
      // meets it again only after every older entry and stops there.
      this.onExpire(key);
    }
    this.schedule();
  }
}
