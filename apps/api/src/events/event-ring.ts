/** An event as the hub fans it out: the filter fields and the framed chunk, built once. */
export interface HubEvent {
  seq: number;
  organizationId: string;
  sessionId: string | null;
  type: string;
  chunk: string;
}

/**
 * The most recent events a replica has fanned out, so a client that reconnects after a short
 * break resumes from memory. `coveredFrom` is the first position it holds everything from:
 * a client resuming at or after it needs nothing from the stream.
 */
export class EventRing {
  private readonly slots: (HubEvent | undefined)[];
  private start = 0;
  private size = 0;

  constructor(
    private readonly capacity: number,
    public coveredFrom: number,
  ) {
    this.slots = new Array<HubEvent | undefined>(capacity);
  }

  push(event: HubEvent): void {
    if (this.size === this.capacity) {
      const evicted = this.slots[this.start]!;
      this.coveredFrom = evicted.seq + 1;
      this.slots[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
      return;
    }
    this.slots[(this.start + this.size) % this.capacity] = event;
    this.size += 1;
  }

  /** Held events after position `after`, oldest first. */
  *after(after: number): Generator<HubEvent> {
    // Binary search for the first seq > after: the ring is in stream order.
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).seq > after) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < this.size; i++) yield this.at(i);
  }

  private at(i: number): HubEvent {
    return this.slots[(this.start + i) % this.capacity]!;
  }
}
