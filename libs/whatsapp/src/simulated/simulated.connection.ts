import {
  WA_SIM_PROTOCOL,
  WA_SIM_PROTOCOL_ERROR_CLOSE_CODE,
  decodeServerFrame,
  fromWsCloseCode,
  type HelloFrame,
  type PairingCodeResultData,
  type SendTextResultData,
  type SimClientFrame,
  type SimCredentials,
  type SimRequestFrame,
  type SimResultData,
  type SimServerFrame,
} from '@wagw/wa-sim';
import type { MessageContent } from '@wagw/contracts';
import { WebSocket, type RawData } from 'ws';
import {
  WaDisconnectCode,
  type WaConnection,
  type WaConnectionOptions,
  type WaSendOptions,
  type WaSendResult,
  WaUnsupportedContentError,
} from '../whatsapp-connection.port.js';
import { SimulatedRequestError } from './simulated-request.error.js';
import type { SocketHeartbeat } from './socket.heartbeat.js';

export interface SimulatedConnectionSettings {
  url: string;
  requestTimeoutMs: number;
  heartbeat: SocketHeartbeat;
}

/** What the adapter keeps in the auth store (as a JSON string). */
interface StoredCreds extends SimCredentials {
  driver: 'simulated';
}

type Phase = 'new' | 'connecting' | 'pairing' | 'login' | 'open' | 'closed';
type CloseReason = { code: number; message: string };
/** A request frame before it gets its `reqId` (Omit distributed over the union). */
type Request = SimRequestFrame extends infer F
  ? F extends SimRequestFrame
    ? Omit<F, 'reqId'>
    : never
  : never;

interface Pending {
  resolve(data: SimResultData): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** How long close() waits for the closing handshake before dropping the socket. */
const CLOSE_GRACE_MS = 2_000;

/**
 * One connection to the simulated WhatsApp network (see `@wagw/wa-sim` protocol). Single-use,
 * like every WaConnection: it never reconnects by itself; after `onClose` it is dead.
 */
export class SimulatedConnection implements WaConnection {
  private phase: Phase = 'new';
  private ws: WebSocket | null = null;
  private nextReqId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Our own reason for closing, which wins over the socket's close code. */
  private localReason: CloseReason | null = null;
  /** The `close` frame the network sent just before closing. */
  private serverReason: string | null = null;
  /** Credentials from `paired`, being written; onClose waits for it (515 follows at once). */
  private credsWrite: Promise<void> | null = null;
  private loggingOut = false;
  /** Inbound traffic is handed over in order, each once the previous one was taken durably. */
  private inbound: Promise<void> = Promise.resolve();
  private logoutConfirmed = false;
  private clearError: Error | null = null;
  private resolveFinished!: () => void;
  private readonly finished = new Promise<void>((resolve) => {
    this.resolveFinished = resolve;
  });

  constructor(
    private readonly options: WaConnectionOptions,
    private readonly settings: SimulatedConnectionSettings,
  ) {}

  /**
   * Resolves once the hello is sent, or once the attempt already ended through onClose (network
   * unreachable, unreadable credentials). Rejects, without onClose, only when it could not start:
   * called twice, or the auth store could not be read.
   */
  async connect(): Promise<void> {
    if (this.phase !== 'new') {
      throw new Error('a WaConnection is single-use: connect() was already called');
    }
    this.phase = 'connecting';
    let token: string | undefined;
    try {
      const stored = await this.options.auth.readCreds();
      if (stored !== null) {
        token = parseStoredCreds(stored)?.token;
        if (token === undefined) {
          // The network would refuse them anyway; report what it would say.
          this.finish({
            code: WaDisconnectCode.loggedOut,
            message: 'stored credentials are unreadable',
          });
          return;
        }
      }
    } catch (err) {
      this.phase = 'closed';
      this.resolveFinished();
      throw err;
    }
    if (this.phase !== 'connecting') return; // close() came first

    const ws = new WebSocket(this.settings.url, {
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    this.settings.heartbeat.add(ws, () => {
      this.localReason ??= {
        code: WaDisconnectCode.connectionLost,
        message: 'the network stopped answering pings',
      };
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onFrame(rawToString(data));
    });
    ws.on('close', (code, reason) => void this.onSocketClose(ws, code, reason.toString('utf8')));
    // 'error' is always followed by 'close', which reports it.
    ws.on('error', () => undefined);

    await new Promise<void>((resolve) => {
      ws.once('open', () => resolve());
      ws.once('close', () => resolve());
    });
    if (ws.readyState !== WebSocket.OPEN || this.phase !== 'connecting') return;
    const hello: HelloFrame = {
      type: 'hello',
      protocol: WA_SIM_PROTOCOL,
      clientId: this.options.clientId,
    };
    if (token !== undefined) hello.token = token;
    this.phase = token === undefined ? 'pairing' : 'login';
    this.send(hello);
  }

  async requestPairingCode(phoneNumber: string): Promise<{ code: string; expiresAt: number }> {
    if (this.phase !== 'pairing') {
      throw new SimulatedRequestError(
        'not_pairing',
        'a pairing code needs an unpaired, connected session',
      );
    }
    const data = (await this.request({
      type: 'pairing_code.request',
      phoneNumber,
    })) as PairingCodeResultData;
    return { code: data.code, expiresAt: data.expiresAt };
  }

  async sendText(to: string, text: string): Promise<WaSendResult> {
    this.requireOpen();
    const data = (await this.request({
      type: 'message.send',
      to: toJid(to),
      text,
    })) as SendTextResultData;
    return { id: data.id, chatJid: data.chatJid, timestamp: data.timestamp };
  }

  /** wa-sim/1 carries text only: other content types are refused (WaUnsupportedContentError). */
  async sendMessage(
    to: string,
    content: MessageContent,
    _options: WaSendOptions,
  ): Promise<WaSendResult> {
    if (content.type !== 'text') throw new WaUnsupportedContentError(content.type);
    return this.sendText(to, content.text);
  }

  async sendPresence(to: string, presence: 'composing' | 'paused' | 'available'): Promise<void> {
    this.requireOpen();
    await this.request({ type: 'presence.send', to: toJid(to), presence });
  }

  async markRead(messages: readonly { chatJid: string; id: string }[]): Promise<void> {
    this.requireOpen();
    if (messages.length === 0) return;
    await this.request({
      type: 'messages.read',
      messages: messages.map(({ chatJid, id }) => ({ chatJid, id })),
    });
  }

  /** The network unlinks the device and closes with 401; the auth state is then wiped. */
  async logout(): Promise<void> {
    this.requireOpen();
    this.loggingOut = true;
    try {
      await this.request({ type: 'logout' });
    } finally {
      this.loggingOut = false;
    }
    this.logoutConfirmed = true;
    // The network closes right after its answer; drop the socket if it does not.
    const ws = this.ws;
    setTimeout(() => ws?.terminate(), CLOSE_GRACE_MS).unref();
    await this.finished;
    if (this.clearError !== null) throw this.clearError;
  }

  async close(): Promise<void> {
    if (this.phase === 'closed') return this.finished;
    this.localReason ??= { code: WaDisconnectCode.closedByClient, message: 'closed by client' };
    const ws = this.ws;
    if (!ws) {
      this.finish(this.localReason);
      return this.finished;
    }
    ws.close(1000, 'closed by client');
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    return this.finished;
  }

  private onFrame(text: string): void {
    const frame = decodeServerFrame(text);
    if (!frame) {
      this.localReason ??= {
        code: WaDisconnectCode.badSession,
        message: 'malformed frame from the network',
      };
      this.ws?.close(WA_SIM_PROTOCOL_ERROR_CLOSE_CODE, 'malformed frame');
      return;
    }
    this.dispatch(frame);
  }

  private dispatch(frame: SimServerFrame): void {
    const listener = this.options.listener;
    switch (frame.type) {
      case 'qr':
        if (this.phase === 'pairing') {
          this.emit(() => listener.onQr({ qr: frame.qr, expiresAt: frame.expiresAt }));
        }
        return;
      case 'paired':
        this.storeCreds(frame.credentials);
        return;
      case 'open':
        if (this.phase !== 'login') return;
        this.phase = 'open';
        this.emit(() => listener.onOpen({ ...frame.identity }));
        return;
      case 'message': {
        const m = frame.message;
        const inbound = {
          id: m.id,
          chatJid: m.chatJid,
          fromJid: m.fromJid,
          fromMe: false,
          timestamp: m.timestamp,
          text: m.text,
          type: 'text' as const,
          raw: m,
        };
        this.deliver(() => listener.onMessage(inbound));
        return;
      }
      case 'receipt': {
        const receipt = { ...frame.receipt };
        this.deliver(() => listener.onReceipt(receipt));
        return;
      }
      case 'channel_message': {
        const post = { ...frame.message, type: 'text' as const, raw: frame.message };
        this.deliver(() => listener.onChannelMessage(post));
        return;
      }
      case 'result': {
        const pending = this.pending.get(frame.reqId);
        if (!pending) return;
        this.pending.delete(frame.reqId);
        clearTimeout(pending.timer);
        if (frame.ok) pending.resolve(frame.data);
        else pending.reject(new SimulatedRequestError(frame.error.code, frame.error.message));
        return;
      }
      case 'close':
        this.serverReason = frame.reason;
        return;
    }
  }

  /** Persists the credentials from pairing; a failed (fenced) write means we lost the session. */
  private storeCreds(credentials: SimCredentials): void {
    const stored: StoredCreds = { driver: 'simulated', ...credentials };
    this.credsWrite = this.options.auth.writeCreds(JSON.stringify(stored)).catch(() => {
      this.localReason = {
        code: WaDisconnectCode.leaseLost,
        message: 'could not store credentials (lease lost)',
      };
      this.ws?.close(1000, 'lease lost');
    });
  }

  private async onSocketClose(ws: WebSocket, wsCode: number, wsReason: string): Promise<void> {
    this.settings.heartbeat.delete(ws);
    if (this.credsWrite) await this.credsWrite;
    // The 401 may land before logout()'s continuation has run: the in-flight request counts.
    if (
      this.logoutConfirmed ||
      (this.loggingOut && fromWsCloseCode(wsCode) === WaDisconnectCode.loggedOut)
    ) {
      try {
        await this.options.auth.clear();
      } catch (err) {
        this.clearError = err instanceof Error ? err : new Error('auth.clear() failed');
      }
      this.finish({ code: WaDisconnectCode.loggedOut, message: this.serverReason ?? 'logged out' });
      return;
    }
    this.finish(this.localReason ?? this.reasonFromSocket(wsCode, wsReason));
  }

  private reasonFromSocket(wsCode: number, wsReason: string): CloseReason {
    const waCode = fromWsCloseCode(wsCode);
    if (waCode !== null) return { code: waCode, message: this.serverReason ?? wsReason };
    if (wsCode === 1001) {
      return {
        code: WaDisconnectCode.unavailableService,
        message: wsReason || 'the network is going away',
      };
    }
    if (wsCode === WA_SIM_PROTOCOL_ERROR_CLOSE_CODE || wsCode === 1011) {
      return { code: WaDisconnectCode.badSession, message: wsReason || 'protocol error' };
    }
    return {
      code: WaDisconnectCode.connectionClosed,
      message: wsReason || `connection closed (${wsCode})`,
    };
  }

  /** Fires onClose exactly once and fails whatever is still waiting for an answer. */
  private finish(reason: CloseReason): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new SimulatedRequestError('closed', `connection closed (${reason.code})`));
    }
    this.pending.clear();
    this.emit(() => this.options.listener.onClose(reason));
    this.resolveFinished();
  }

  private request(frame: Request): Promise<SimResultData> {
    const reqId = this.nextReqId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(
          new SimulatedRequestError(
            'timeout',
            `no answer from the network in ${this.settings.requestTimeoutMs} ms`,
          ),
        );
      }, this.settings.requestTimeoutMs);
      timer.unref();
      this.pending.set(reqId, { resolve, reject, timer });
      this.send({ ...frame, reqId });
    });
  }

  private send(frame: SimClientFrame): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private requireOpen(): void {
    if (this.phase !== 'open') {
      throw new SimulatedRequestError('not_open', 'the connection is not open');
    }
  }

  /**
   * Hands inbound traffic to the listener in order, waiting for each to be taken (its event
   * durable) before the next. wa-sim/1 has no per-message acknowledgement, so what "not
   * acknowledged" means here is the closest the protocol allows: a delivery the listener could
   * not take closes the connection (503), so the session reconnects instead of reading on past
   * a message it lost.
   */
  private deliver(take: () => Promise<void>): void {
    this.inbound = this.inbound.then(async () => {
      if (this.phase === 'closed') return;
      try {
        await take();
      } catch (err) {
        this.localReason ??= {
          code: WaDisconnectCode.unavailableService,
          message: `inbound traffic not taken: ${err instanceof Error ? err.message : String(err)}`,
        };
        this.ws?.close(1000, 'inbound not taken');
      }
    });
  }

  /** A throwing listener must not take the socket (or the process) down with it. */
  private emit(call: () => void): void {
    try {
      call();
    } catch (err) {
      process.emitWarning(
        `WaConnectionListener threw: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function parseStoredCreds(stored: string): StoredCreds | null {
  try {
    const value: unknown = JSON.parse(stored);
    if (typeof value !== 'object' || value === null) return null;
    const token = (value as Record<string, unknown>)['token'];
    return typeof token === 'string' && token.length > 0 ? (value as StoredCreds) : null;
  } catch {
    return null;
  }
}

/** Accepts phone digits (with or without `+`) or a JID, as the REST API does. */
function toJid(to: string): string {
  const digits = /^\+?(\d+)$/.exec(to.trim());
  return digits?.[1] !== undefined ? `${digits[1]}@s.whatsapp.net` : to;
}
