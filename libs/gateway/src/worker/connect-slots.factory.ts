import {
  tapListener,
  type WaConnection,
  type WaConnectionFactory,
  type WaConnectionOptions,
} from '@wagw/whatsapp';
import pLimit, { type LimitFunction } from 'p-limit';
import { eventLoopDelayReader, LoopLoadGovernor } from './loop-load.governor.js';

/** Slots for logins of linked devices, and for pairings (a scan's first login included). */
export interface ConnectSlotLimits {
  logins: number;
  pairings: number;
  /** Event-loop delay (ms) over which fewer connects start at once (0 = fixed slots). */
  loopLagLimitMs?: number;
}

/**
 * Bounds how many connections of this gateway log in at once (`WA_CONNECT_CONCURRENCY`), and
 * how many of them pair (`WA_PAIRING_CONCURRENCY`). A login is CPU and database work (the Noise
 * handshake, the auth state); the first login after a scan is far more: Baileys generates 812
 * pre-keys in one synchronous run (≈ 0.3 s of CPU) and stores them in one batch. Started all at
 * once, a takeover of hundreds of sessions or a wave of pairings queues seconds of CPU ahead of
 * every timer, and the lease renewal misses its deadline (the gateway then self-fences and drops
 * everything it holds). With slots, connects queue instead and each runs at full speed.
 *
 * A slot is taken by `connect()` and freed by the connection's first QR (pairing waits for a
 * person, not for us), its open or its close; a connection closed while it waits never connects.
 */
export class ConnectSlotsFactory implements WaConnectionFactory {
  private readonly logins: LimitFunction;
  private readonly pairings: LimitFunction;
  private readonly governor: LoopLoadGovernor | undefined;

  constructor(
    private readonly inner: WaConnectionFactory,
    limits: ConnectSlotLimits,
  ) {
    this.logins = pLimit(limits.logins);
    this.pairings = pLimit(limits.pairings);
    if (limits.loopLagLimitMs) {
      this.governor = new LoopLoadGovernor(
        [
          { limit: this.logins, max: limits.logins },
          { limit: this.pairings, max: limits.pairings },
        ],
        limits.loopLagLimitMs,
        eventLoopDelayReader(),
      );
      this.governor.start();
    }
  }

  /** Logins allowed at once now (lowered while the event loop is overloaded). */
  get loginSlots(): number {
    return this.logins.concurrency;
  }

  /** Stops adjusting the slots (the process is stopping). */
  close(): void {
    this.governor?.stop();
  }

  get driver(): string {
    return this.inner.driver;
  }

  /** Connects waiting for a slot. */
  get waiting(): number {
    return this.logins.pendingCount + this.pairings.pendingCount;
  }

  /** Connects holding a slot: handshake and login (or pairing) under way. */
  get connecting(): number {
    return this.logins.activeCount + this.pairings.activeCount;
  }

  create(options: WaConnectionOptions): WaConnection {
    let freeSlot: (() => void) | null = null;
    let closed = false;
    const free = (): void => {
      const release = freeSlot;
      freeSlot = null;
      release?.();
    };
    const freeing = tapListener(options.listener, { onQr: free, onOpen: free, onClose: free });
    const connection = this.inner.create({ ...options, listener: freeing });
    const connect = connection.connect.bind(connection);
    const close = connection.close.bind(connection);
    connection.connect = () =>
      new Promise<void>((resolve, reject) => {
        const limit = options.linked === true ? this.logins : this.pairings;
        void limit(
          () =>
            new Promise<void>((release) => {
              if (closed) {
                release();
                resolve();
                return;
              }
              freeSlot = release;
              connect().then(resolve, (error: unknown) => {
                free();
                reject(error instanceof Error ? error : new Error(String(error)));
              });
            }),
        );
      });
    connection.close = async () => {
      closed = true;
      try {
        await close();
      } finally {
        free();
      }
    };
    return connection;
  }
}
