type Send = (data: unknown, cb?: (err?: Error) => void) => void;

interface HeldFrame {
  data: unknown;
  /** The last inbound message that had arrived when this frame was written. */
  watermark: number;
  /** `flushed()` callers waiting for this frame to reach the socket. */
  waiters?: { resolve: () => void; reject: (error: Error) => void }[];
}

/**
 * Holds a connection's outgoing frames until every inbound message that arrived before them is
 * handed over (durably stored), so the acknowledgement of a message never leaves before the
 * message is safe.
 *
 * Why at the frame level: Baileys 7 acknowledges a message to the network (its delivery receipt,
 * or the ack of a channel post) inside `handleMessage` before it emits `messages.upsert`, and
 * does not wait for listeners. Frames are Noise-encrypted with a counter, so they cannot be
 * reordered: a held frame holds every later one. Baileys is told a held frame was written
 * (it awaits that callback before it emits the upsert we are waiting for); if the connection dies
 * while frames are held they are lost, which for the receipts is the point: the network still
 * has the message and delivers it again at the next login.
 *
 * A message that never reaches the listener (undecryptable, ignored by Baileys) is settled after
 * `timeoutMs`, so the connection never stalls for good.
 */
export class InboundAckGate {
  private arrivals = 0;
  /** Every message with a sequence number up to this one is settled. */
  private settledUpTo = 0;
  private readonly settledAbove = new Set<number>();
  private readonly pending = new Map<string, { seq: number; timer: NodeJS.Timeout }>();
  private readonly held: HeldFrame[] = [];
  /** Auth-state writes waiting, like frames, for the messages that arrived before them. */
  private readonly writes: { run: () => Promise<void>; watermark: number }[] = [];
  private writing: Promise<void> = Promise.resolve();
  private dead = false;

  constructor(
    private readonly send: Send,
    private readonly timeoutMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /** An inbound message stanza came off the socket. */
  arrived(id: string): void {
    if (this.dead || this.pending.has(id)) return;
    const seq = ++this.arrivals;
    const timer = setTimeout(() => this.settle(id), this.timeoutMs);
    timer.unref();
    this.pending.set(id, { seq, timer });
  }

  /** The message is handed over (or is nothing to hand over): frames after it may go. */
  settle(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
    this.settledAbove.add(entry.seq);
    while (this.settledAbove.delete(this.settledUpTo + 1)) this.settledUpTo += 1;
    this.flush();
  }

  /** Baileys writes a frame. */
  frame(data: unknown, cb?: (err?: Error) => void): void {
    if (this.dead) {
      if (cb) process.nextTick(cb, closing());
      return;
    }
    if (this.held.length === 0 && this.settledUpTo >= this.arrivals) {
      this.send(data, cb);
      return;
    }
    this.held.push({ data, watermark: this.arrivals });
    if (cb) process.nextTick(cb);
  }

  /**
   * Runs `write` (the Signal state a decryption advanced) once every message that arrived before
   * it is handed over, in order with the other writes; at once when none is pending. Stored
   * earlier, a crash between the write and the hand-over would lose the message: the network
   * delivers it again, but its message key is gone from the stored session ("Key used already").
   * `write` handles its own errors. Dropped when the connection ends first, with the frames:
   * what it describes comes again.
   */
  afterHandOver(write: () => Promise<void>): void {
    if (this.dead) return;
    if (this.writes.length === 0 && this.settledUpTo >= this.arrivals) {
      this.run(write);
      return;
    }
    this.writes.push({ run: write, watermark: this.arrivals });
  }

  /**
   * Resolves once every frame written so far has reached the socket; rejects when the
   * connection ends first (those frames never leave). A send is reported sent only after this:
   * held behind an inbound message, its frame has not left yet.
   */
  flushed(): Promise<void> {
    const last = this.held[this.held.length - 1];
    // Nothing held: every frame written so far went straight to the socket.
    if (!last) return Promise.resolve();
    return new Promise((resolve, reject) => (last.waiters ??= []).push({ resolve, reject }));
  }

  /** Resolves once every write started so far has finished. */
  written(): Promise<void> {
    return this.writing;
  }

  /** Frames waiting for a hand-over. */
  get heldFrames(): number {
    return this.held.length;
  }

  /** The connection is ending: nothing held is sent any more (and nothing after it). */
  discard(): void {
    this.dead = true;
    for (const frame of this.held)
      for (const waiter of frame.waiters ?? []) waiter.reject(closing());
    this.held.length = 0;
    this.writes.length = 0;
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private run(write: () => Promise<void>): void {
    this.writing = this.writing.then(write, write);
  }

  private flush(): void {
    while (this.writes.length > 0 && this.writes[0]!.watermark <= this.settledUpTo)
      this.run(this.writes.shift()!.run);
    while (this.held.length > 0 && this.held[0]!.watermark <= this.settledUpTo) {
      const frame = this.held.shift()!;
      this.send(frame.data, (err) => {
        if (err) this.onError(err);
        for (const waiter of frame.waiters ?? []) {
          if (err) waiter.reject(err);
          else waiter.resolve();
        }
      });
    }
  }
}

const closing = (): Error => new Error('the connection is closing');
