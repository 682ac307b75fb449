import type { WaSimControlClient } from '@wagw/wa-sim';
import { trustSandboxRootKey, useNativeSignatureCheck } from '@wagw/whatsapp-baileys';
import {
  BufferJSON,
  initAuthCreds,
  makeWASocket,
  type AuthenticationCreds,
  type BaileysEventMap,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
  type WASocket,
} from '@whiskeysockets/baileys';
import curve from 'curve25519-js';
import { pino } from 'pino';

// As the gateway's Baileys does (`loadBaileys`): libsignal checks signatures natively.
useNativeSignatureCheck(curve);

type KeyType = keyof SignalDataTypeMap;

/** A companion's auth state in memory, as `useMultiFileAuthState` keeps it on disk. */
export class WebClientAuth {
  constructor(
    readonly creds: AuthenticationCreds = initAuthCreds(),
    private readonly data = new Map<string, unknown>(),
  ) {}

  readonly keys: SignalKeyStore = {
    get: <T extends KeyType>(type: T, ids: string[]) => {
      const found: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const value = this.data.get(`${type}/${id}`);
        if (value !== undefined) found[id] = value as SignalDataTypeMap[T];
      }
      return found;
    },
    set: (set: SignalDataSet) => {
      for (const type of Object.keys(set) as KeyType[]) {
        for (const [id, value] of Object.entries(set[type] ?? {})) {
          if (value === null || value === undefined) this.data.delete(`${type}/${id}`);
          else this.data.set(`${type}/${id}`, value);
        }
      }
    },
  };

  /** A copy as a crash would leave it: whatever was written after this is lost. */
  snapshot(): WebClientAuth {
    const copy = <T>(value: T): T =>
      JSON.parse(JSON.stringify(value, BufferJSON.replacer), BufferJSON.reviver) as T;
    return new WebClientAuth(copy(this.creds), new Map(copy([...this.data])));
  }
}

export interface WebClientOptions {
  /** The sim's `webUrl` (`ws://host:port/ws/chat`), or a proxy in front of it. */
  url: string;
  auth: WebClientAuth;
  /** Sent as `?clientId=` for the sim's connection and eviction records. */
  clientId?: string;
  /** Baileys' `qrTimeout`: every QR ref's lifetime (unset: 60 s, then 20 s). */
  qrTimeoutMs?: number;
  keepAliveIntervalMs?: number;
  connectTimeoutMs?: number;
  defaultQueryTimeoutMs?: number;
  /** Baileys' queries after login (props, blocklist, privacy); off unless a test is about them. */
  fireInitQueries?: boolean;
}

type Listener = (event: keyof BaileysEventMap, data: unknown) => void;

/** Makes this process's Baileys trust chains issued under the sim's root key. */
export async function trustSim(control: WaSimControlClient): Promise<string> {
  const { publicKey } = await control.rootKey();
  await trustSandboxRootKey(publicKey);
  return publicKey;
}

/**
 * The real Baileys 7 client pointed at the sim (trust its root key first, with `trustSim`), with
 * the events it emits recorded so a test can wait for one (`next`) or look back (`seen`); the
 * auth state can be snapshotted, to restart as after a crash.
 */
export class WebClient {
  readonly sock: WASocket;
  private readonly events: { event: keyof BaileysEventMap; data: unknown }[] = [];
  private readonly waiters = new Set<Listener>();
  private qrsTaken = 0;

  constructor(readonly options: WebClientOptions) {
    const { auth } = options;
    const url = new URL(options.url);
    if (options.clientId) url.searchParams.set('clientId', options.clientId);
    this.sock = makeWASocket({
      waWebSocketUrl: url.toString(),
      auth: { creds: auth.creds, keys: auth.keys },
      logger: pino({ level: 'silent' }),
      browser: ['WhatsApp Gateway', 'Chrome', '1.0.0'],
      qrTimeout: options.qrTimeoutMs,
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      defaultQueryTimeoutMs: options.defaultQueryTimeoutMs ?? 10_000,
      markOnlineOnConnect: false,
      fireInitQueries: options.fireInitQueries ?? false,
      syncFullHistory: false,
      shouldSyncHistoryMessage: () => false,
    });
    this.sock.ev.on('creds.update', (update) => Object.assign(auth.creds, update));
    for (const event of ['connection.update', 'messages.upsert', 'messages.update'] as const) {
      this.sock.ev.on(event, (data) => {
        this.events.push({ event, data });
        for (const waiter of this.waiters) waiter(event, data);
      });
    }
  }

  seen<E extends keyof BaileysEventMap>(event: E): BaileysEventMap[E][] {
    return this.events.filter((e) => e.event === event).map((e) => e.data as BaileysEventMap[E]);
  }

  /** The first event (already seen or still to come) that `match` accepts. */
  next<E extends keyof BaileysEventMap, R>(
    event: E,
    match: (data: BaileysEventMap[E]) => R | undefined,
    timeoutMs = 15_000,
  ): Promise<R> {
    for (const data of this.seen(event)) {
      const hit = match(data);
      if (hit !== undefined) return Promise.resolve(hit);
    }
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      // A wait that lost a race must not keep the test process alive.
      timer.unref();
      const waiter: Listener = (e, data) => {
        if (e !== event) return;
        let hit: R | undefined;
        try {
          hit = match(data as BaileysEventMap[E]);
        } catch (err) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (hit === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(hit);
      };
      this.waiters.add(waiter);
    });
  }

  /** The next QR this client shows that no earlier call took (`https://wa.me/settings/linked_devices#…`). */
  nextQr(timeoutMs = 30_000): Promise<string> {
    const wanted = this.qrsTaken++;
    let n = 0;
    return this.next(
      'connection.update',
      (u) => (u.qr && n++ === wanted ? u.qr : undefined),
      timeoutMs,
    );
  }

  /** Resolves when the connection is open; rejects if it closes first. */
  opened(): Promise<void> {
    return this.next('connection.update', (u) => {
      if (u.connection === 'open') return true;
      if (u.connection === 'close') throw new Error(`closed with ${closeCodeOf(u)} before open`);
      return undefined;
    }).then(() => undefined);
  }

  /** The status code the connection closed with (Baileys' `DisconnectReason`; -1 when none). */
  closed(timeoutMs = 30_000): Promise<number> {
    return this.next(
      'connection.update',
      (u) => (u.connection === 'close' ? closeCodeOf(u) : undefined),
      timeoutMs,
    );
  }

  /** The code the connection closed with, or null while it has not closed. */
  get closeCode(): number | null {
    const close = this.seen('connection.update').find((u) => u.connection === 'close');
    return close ? closeCodeOf(close) : null;
  }

  /** Ends the socket from the client side (no logout). */
  async end(): Promise<void> {
    if (this.closeCode !== null) return;
    const closed = this.closed();
    await this.sock.end(undefined);
    await closed;
  }
}

function closeCodeOf(update: BaileysEventMap['connection.update']): number {
  const error = update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined;
  return error?.output?.statusCode ?? -1;
}

/**
 * Links a new companion by QR, as a user would: the client shows a QR, the phone scans it through
 * the control API, the sim restarts the stream (515), and the client logs in with what it was
 * given. Returns the open client.
 */
export async function linkByQr(
  control: WaSimControlClient,
  options: WebClientOptions,
  phoneNumber: string,
): Promise<WebClient> {
  const pairing = new WebClient(options);
  const qr = await pairing.nextQr();
  const restart = pairing.closed();
  await control.scanQr(qr, phoneNumber);
  const code = await restart;
  if (code !== 515) throw new Error(`expected 515 after linking, got ${code}`);
  const client = new WebClient(options);
  await client.opened();
  return client;
}
