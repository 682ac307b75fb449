/** One delivery of a logged event to a member of a durable group. */
export interface InProcessDelivery {
  seq: number;
  /** The event as it was "on the wire" (JSON text), parsed by the consumer like off NATS. */
  data: string;
  deliveryCount: number;
}

/** Read access to the broker's event log. */
export interface InProcessEventLog {
  readonly firstSeq: number;
  readonly lastSeq: number;
  get(seq: number): string | undefined;
}

export interface InProcessDurableGroupOptions {
  /** Where a restarted group resumes (its saved position); default the log's head. */
  startSeq?: number | undefined;
  /** Told the group's new position (every event below it acknowledged) after each ack. */
  onProgress?: ((nextSeq: number) => void) | undefined;
}

interface Waiter {
  resolve: (delivery: InProcessDelivery | null) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * JetStream's durable pull consumer, in memory: one cursor shared by every member (each event
 * goes to one of them), explicit ack, nak with a delay, unlimited redelivery. Members pull one
 * event at a time and the longest-waiting member gets the next one, which splits the load
 * across members like NATS does across replicas.
 */
export class InProcessDurableGroup {
  /** Next never-delivered sequence (deliver policy "all": starts at the log's head). */
  private nextSeq: number;
  private readonly deliveries = new Map<number, number>();
  private readonly redeliveries: Array<{ seq: number; dueAt: number }> = [];
  private redeliveryTimer: NodeJS.Timeout | null = null;
  private waiters: Waiter[] = [];

  constructor(
    readonly name: string,
    private readonly log: InProcessEventLog,
    private readonly options: InProcessDurableGroupOptions = {},
  ) {
    this.nextSeq = Math.max(log.firstSeq, options.startSeq ?? 0);
  }

  /** Waits for the next event for this member; null when `signal` aborts. */
  next(signal: AbortSignal): Promise<InProcessDelivery | null> {
    if (signal.aborted) return Promise.resolve(null);
    const ready = this.take();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(null);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  ack(seq: number): void {
    this.deliveries.delete(seq);
    if (!this.options.onProgress) return;
    // Everything below the oldest unacknowledged delivery (or the next new one) is done.
    let floor = this.nextSeq;
    for (const pending of this.deliveries.keys()) floor = Math.min(floor, pending);
    this.options.onProgress(floor);
  }

  /** Redelivers `seq` (to whichever member is free then) after `delayMs`. */
  nak(seq: number, delayMs: number): void {
    if (!this.deliveries.has(seq)) return;
    this.redeliveries.push({ seq, dueAt: Date.now() + delayMs });
    this.redeliveries.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    this.scheduleRedelivery();
  }

  /** Called by the broker after an append (or a due redelivery): feed waiting members. */
  dispatch(): void {
    while (this.waiters.length > 0) {
      const delivery = this.take();
      if (!delivery) return;
      const waiter = this.waiters.shift();
      if (!waiter) return;
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(delivery);
    }
  }

  private take(): InProcessDelivery | null {
    const due = this.redeliveries[0];
    if (due && due.dueAt <= Date.now()) {
      this.redeliveries.shift();
      const data = this.log.get(due.seq);
      // Trimmed by retention while waiting for redelivery: gone, like a JetStream limit.
      if (data === undefined) {
        this.deliveries.delete(due.seq);
        return this.take();
      }
      return this.deliver(due.seq, data);
    }
    // Events trimmed before this durable read them are skipped, as JetStream does.
    this.nextSeq = Math.max(this.nextSeq, this.log.firstSeq);
    if (this.nextSeq > this.log.lastSeq) return null;
    const seq = this.nextSeq;
    this.nextSeq += 1;
    const data = this.log.get(seq);
    return data === undefined ? this.take() : this.deliver(seq, data);
  }

  private deliver(seq: number, data: string): InProcessDelivery {
    const deliveryCount = (this.deliveries.get(seq) ?? 0) + 1;
    this.deliveries.set(seq, deliveryCount);
    return { seq, data, deliveryCount };
  }

  private scheduleRedelivery(): void {
    if (this.redeliveryTimer) clearTimeout(this.redeliveryTimer);
    this.redeliveryTimer = null;
    // Only future ones need a timer: a due one nobody was free to take goes to the next
    // member that asks (take() checks), so a busy group doesn't spin on a 0 ms timer.
    const now = Date.now();
    const head = this.redeliveries.find((r) => r.dueAt > now);
    if (!head) return;
    this.redeliveryTimer = setTimeout(() => {
      this.redeliveryTimer = null;
      this.dispatch();
      this.scheduleRedelivery();
    }, head.dueAt - now);
    // A pending redelivery must not keep a finished process alive.
    this.redeliveryTimer.unref();
  }

  /** Drops timers (broker shutdown). */
  dispose(): void {
    if (this.redeliveryTimer) clearTimeout(this.redeliveryTimer);
    this.redeliveryTimer = null;
  }
}
