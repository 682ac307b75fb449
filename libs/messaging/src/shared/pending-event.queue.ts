/**
 * FIFO for the publisher's backlog. Array#shift is O(n) on large arrays, and the backlog can
 * reach hundreds of thousands of events during a NATS outage, so the head advances by index and
 * the array is compacted only once the consumed prefix dominates.
 */
export class PendingEventQueue<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  /** The first `n` items, oldest first, without removing them. */
  peekMany(n: number): T[] {
    return this.items.slice(this.head, this.head + n);
  }

  shift(): T | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
