/** The worst event-loop delay (ms) since the previous read; `stop` ends the measuring. */
export interface LoopDelayReader {
  read(): number;
  stop(): void;
}

/**
 * Measures the event loop's delay with a timer every `resolutionMs`: how late it fires. (Node
 * 20's `monitorEventLoopDelay` missed a 150 ms block here: it samples too rarely to be read
 * every half second.) A read also counts a turn that is late right now.
 */
export function eventLoopDelayReader(resolutionMs = 20): LoopDelayReader {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - resolutionMs);
    last = now;
  }, resolutionMs);
  timer.unref();
  return {
    read: () => {
      const delay = Math.max(worst, performance.now() - last - resolutionMs, 0);
      worst = 0;
      return delay;
    },
    stop: () => clearInterval(timer),
  };
}

/** A concurrency that can be changed while it runs (a p-limit limit). */
export interface AdjustableLimit {
  concurrency: number;
}

/**
 * Starts fewer connects at once while the event loop is overloaded: every tick, when the worst
 * delay since the last tick is over `lagLimitMs` each limit is halved (down to 1); when it is
 * under half of it, each grows by one again (up to its configured size). A login's CPU work
 * does not end with its slot (Baileys' queries and key checks follow the open), so a fixed
 * number of slots cannot bound a takeover of a thousand sessions; the delay the lease renewal
 * would suffer can, and it keeps the renewal in time.
 */
export class LoopLoadGovernor {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: readonly { limit: AdjustableLimit; max: number }[],
    private readonly lagLimitMs: number,
    private readonly delay: LoopDelayReader,
  ) {}

  start(everyMs = 500): void {
    this.timer ??= setInterval(() => this.tick(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.delay.stop();
  }

  tick(): void {
    const delayMs = this.delay.read();
    for (const { limit, max } of this.limits) {
      if (delayMs > this.lagLimitMs)
        limit.concurrency = Math.max(1, Math.floor(limit.concurrency / 2));
      else if (delayMs < this.lagLimitMs / 2 && limit.concurrency < max) limit.concurrency += 1;
    }
  }
}
