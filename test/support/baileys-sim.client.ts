import { trustSandboxRootKey } from '@wagw/whatsapp-baileys';
import type { WaSimControlClient } from '@wagw/wa-sim';
import makeWASocket, {
  initAuthCreds,
  type AuthenticationCreds,
  type ConnectionState,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
  type WASocket,
} from '@whiskeysockets/baileys';
import { pino } from 'pino';

/** Baileys' auth state in memory: fresh creds and a Map-backed key store. */
export interface SimBaileysAuth {
  creds: AuthenticationCreds;
  keys: SignalKeyStore;
}

export function newSimBaileysAuth(): SimBaileysAuth {
  const data = new Map<string, unknown>();
  const keys: SignalKeyStore = {
    get: <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const value = data.get(`${type}:${id}`);
        if (value !== undefined) out[id] = value as SignalDataTypeMap[T];
      }
      return Promise.resolve(out);
    },
    set: (set: SignalDataSet) => {
      for (const [type, values] of Object.entries(set)) {
        for (const [id, value] of Object.entries(values ?? {})) {
          if (value === null || value === undefined) data.delete(`${type}:${id}`);
          else data.set(`${type}:${id}`, value);
        }
      }
      return Promise.resolve();
    },
  };
  return { creds: initAuthCreds(), keys };
}

/** Makes this process's Baileys trust chains issued under the sim's root key. */
export async function trustSim(control: WaSimControlClient): Promise<string> {
  const { publicKey } = await control.rootKey();
  await trustSandboxRootKey(publicKey);
  return publicKey;
}

export interface SimBaileysOptions {
  /** The sim's `webUrl` (`ws://host:port/ws/chat`). */
  url: string;
  auth: SimBaileysAuth;
  /** Sent as `?clientId=` for the sim's eviction records. */
  clientId?: string;
  /** Baileys' `qrTimeout`: every QR ref's lifetime (unset: 60 s, then 20 s). */
  qrTimeoutMs?: number;
  keepAliveIntervalMs?: number;
  connectTimeoutMs?: number;
  defaultQueryTimeoutMs?: number;
}

/** One real Baileys socket against the sim, with awaitable connection events. */
export class SimBaileysClient {
  readonly sock: WASocket;
  private readonly qrs: string[] = [];
  private qrWaiters: ((qr: string) => void)[] = [];
  private opened = false;
  private closedWith: number | null = null;
  private readonly openWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly closeWaiters: ((code: number) => void)[] = [];

  constructor(options: SimBaileysOptions) {
    const url = new URL(options.url);
    if (options.clientId) url.searchParams.set('clientId', options.clientId);
    this.sock = makeWASocket({
      waWebSocketUrl: url.toString(),
      auth: options.auth,
      logger: pino({ level: 'silent' }),
      printQRInTerminal: false,
      browser: ['WhatsApp Gateway', 'Chrome', '1.0.0'],
      qrTimeout: options.qrTimeoutMs,
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      defaultQueryTimeoutMs: options.defaultQueryTimeoutMs ?? 10_000,
      markOnlineOnConnect: false,
      fireInitQueries: true,
      syncFullHistory: false,
      shouldSyncHistoryMessage: () => false,
    });
    this.sock.ev.on('connection.update', (update: Partial<ConnectionState>) => {
      if (update.qr) {
        const waiter = this.qrWaiters.shift();
        if (waiter) waiter(update.qr);
        else this.qrs.push(update.qr);
      }
      if (update.connection === 'open') {
        this.opened = true;
        for (const w of this.openWaiters.splice(0)) w.resolve();
      }
      if (update.connection === 'close') {
        const error = update.lastDisconnect?.error as
          { output?: { statusCode?: number } } | undefined;
        const code = error?.output?.statusCode ?? -1;
        this.closedWith = code;
        for (const w of this.closeWaiters.splice(0)) w(code);
        for (const w of this.openWaiters.splice(0))
          w.reject(new Error(`closed with ${code} before open`));
      }
    });
  }

  /** The next QR the client shows (the full `https://wa.me/settings/linked_devices#...`). */
  nextQr(): Promise<string> {
    const qr = this.qrs.shift();
    if (qr !== undefined) return Promise.resolve(qr);
    return new Promise((resolve) => this.qrWaiters.push(resolve));
  }

  waitOpen(): Promise<void> {
    if (this.opened) return Promise.resolve();
    if (this.closedWith !== null)
      return Promise.reject(new Error(`closed with ${this.closedWith}`));
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  /** Resolves with `lastDisconnect.error.output.statusCode` (Baileys' `DisconnectReason`). */
  waitClose(): Promise<number> {
    if (this.closedWith !== null) return Promise.resolve(this.closedWith);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  get closeCode(): number | null {
    return this.closedWith;
  }

  /** Ends the socket from the client side (no logout). */
  async end(): Promise<void> {
    if (this.closedWith !== null) return;
    const closed = this.waitClose();
    void this.sock.end(undefined);
    await closed;
  }
}

export function connectBaileysToSim(options: SimBaileysOptions): SimBaileysClient {
  return new SimBaileysClient(options);
}

/**
 * Links a fresh companion to `phoneNumber` by QR, as a user would: connect, scan the first QR
 * through the control API, take the 515, reconnect, wait for `open`. Returns the open client.
 */
export async function pairByQr(
  control: WaSimControlClient,
  options: SimBaileysOptions,
  phoneNumber: string,
): Promise<SimBaileysClient> {
  const pairing = connectBaileysToSim(options);
  const qr = await pairing.nextQr();
  await control.scanQr(qr, phoneNumber);
  const code = await pairing.waitClose();
  if (code !== 515) throw new Error(`pairing ended with ${code}, not 515`);
  const client = connectBaileysToSim(options);
  await client.waitOpen();
  return client;
}
