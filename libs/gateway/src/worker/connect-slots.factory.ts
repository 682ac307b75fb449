import type {
  WaConnection,
  WaConnectionFactory,
  WaConnectionOptions,
  WaConnectionListener,
} from '@wagw/whatsapp';
import pLimit, { type LimitFunction } from 'p-limit';

/**
 * Bounds how many connections of this gateway are logging in at once (`WA_CONNECT_CONCURRENCY`).
 * A login is CPU and database work (the Noise handshake, the auth state, after a pairing 812
 * pre-keys generated and stored in one batch): a takeover of hundreds of sessions, or a wave of
 * pairings, started all at once shares the event loop and the connection pool between all of
 * them, so none finishes soon and auth writes wait past the pool's acquire timeout. With slots,
 * connects queue and each one runs at full speed.
 *
 * A slot is taken by `connect()` and freed by the connection's first QR (pairing waits for a
 * person, not for us), its open or its close; a connection closed while it waits never connects.
 */
export class ConnectSlotsFactory implements WaConnectionFactory {
  private readonly limit: LimitFunction;

  constructor(
    private readonly inner: WaConnectionFactory,
    concurrency: number,
  ) {
    this.limit = pLimit(concurrency);
  }

  get driver(): string {
    return this.inner.driver;
  }

  /** Connects waiting for a slot. */
  get waiting(): number {
    return this.limit.pendingCount;
  }

  /** Connects holding a slot: handshake and login under way. */
  get connecting(): number {
    return this.limit.activeCount;
  }

  create(options: WaConnectionOptions): WaConnection {
    let freeSlot: (() => void) | null = null;
    let closed = false;
    const free = (): void => {
      const release = freeSlot;
      freeSlot = null;
      release?.();
    };
    const listener = options.listener;
    const freeing: WaConnectionListener = {
      onQr: (qr) => {
        free();
        listener.onQr(qr);
      },
      onOpen: (identity) => {
        free();
        listener.onOpen(identity);
      },
      onClose: (reason) => {
        free();
        listener.onClose(reason);
      },
      onMessage: (message) => listener.onMessage(message),
      onReceipt: (receipt) => listener.onReceipt(receipt),
      onChannelMessage: (message) => listener.onChannelMessage(message),
    };
    const connection = this.inner.create({ ...options, listener: freeing });
    const connect = connection.connect.bind(connection);
    const close = connection.close.bind(connection);
    connection.connect = () =>
      new Promise<void>((resolve, reject) => {
        void this.limit(
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
