import {
  decodeBinaryNode,
  encodeBinaryNode,
  NOISE_WA_HEADER,
  type BinaryNode,
  type proto,
} from '@whiskeysockets/baileys';
import type { NoiseResponder, NoiseTransport } from './noise.responder.js';
import type { WebLinkedDevice } from './messaging.port.js';

/** The little a connection needs from its WebSocket; the server adapts `ws` to it. */
export interface WebSocketLike {
  send(data: Buffer): void;
  /** Ends the socket at once (no closing handshake wait). */
  terminate(): void;
  close(): void;
}

/** What the connection hands to the network; it owns no protocol decisions itself. */
export interface WebConnectionEvents {
  clientFinished(conn: WebConnection, payload: proto.ClientPayload): Promise<void> | void;
  stanza(conn: WebConnection, node: BinaryNode): Promise<void> | void;
  closed(conn: WebConnection): void;
  error(conn: WebConnection, err: unknown): void;
}

/**
 * - `hello` / `finish`: Noise handshake in progress;
 * - `registering`: an unpaired client, shown `pair-device` refs or pairing by code;
 * - `login`: a linked device logging in (success sent, awaiting the offline flush);
 * - `open`: logged in;
 * - `silent`: the network stopped talking to it (408 on the client's side, eventually);
 * - `closed`: ended or ending; nothing more is read or sent.
 */
export type WebConnectionState =
  'hello' | 'finish' | 'registering' | 'login' | 'open' | 'silent' | 'closed';

/** Registration data from the ClientPayload: the companion's keys before it is linked. */
export interface WebRegistration {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  platform: string;
}

const INTRO_ROUTING = Buffer.from('ED');
/** After a terminal stanza, the client normally closes itself; past this, the server does. */
const CLOSE_GRACE_MS = 2_000;
/** A silenced connection is cut after this, whatever the client does. */
const SILENT_MAX_MS = 120_000;

/** One WhatsApp Web client's socket: framing, Noise, binary nodes, stanza ordering. */
export class WebConnection {
  state: WebConnectionState = 'hello';
  /** When the socket opened; `since` is when it logged in or started pairing. */
  readonly openedAt: number;
  since: number;
  /** The client's proven Noise static key (after the handshake). */
  clientStatic: Buffer | null = null;
  registration: WebRegistration | null = null;
  /** Set once logged in. */
  device: WebLinkedDevice | null = null;
  /** Registering: the `pair-device` refs and when the first one was shown. */
  refs: string[] = [];
  refsShownAt = 0;
  /** Pairing by code: the number the companion asked for and its wrapped ephemeral key. */
  codeHello: { phoneNumber: string; wrappedEphemeral: Buffer; ref: Buffer } | null = null;
  /** A link in progress (a phone scanned or entered the code): no second one meanwhile. */
  linking = false;
  timer: NodeJS.Timeout | null = null;

  private inBytes: Buffer = Buffer.alloc(0);
  private introSeen = false;
  private transport: NoiseTransport | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly waiters = new Map<string, (node: BinaryNode) => void>();
  private nextId = 1;

  constructor(
    readonly id: number,
    readonly clientId: string,
    private readonly socket: WebSocketLike,
    private readonly noise: NoiseResponder,
    private readonly events: WebConnectionEvents,
    now: number,
  ) {
    this.openedAt = now;
    this.since = now;
  }

  get live(): boolean {
    return this.state !== 'closed' && this.state !== 'silent';
  }

  /** Bytes from the socket; frames are processed strictly in order. */
  receive(data: Buffer): void {
    if (!this.live) return;
    this.inBytes = this.inBytes.length === 0 ? data : Buffer.concat([this.inBytes, data]);
    if (!this.introSeen && !this.readIntro()) return;
    for (;;) {
      if (this.inBytes.length < 3) return;
      const size = (this.inBytes[0]! << 16) | (this.inBytes[1]! << 8) | this.inBytes[2]!;
      if (this.inBytes.length < size + 3) return;
      const frame = this.inBytes.subarray(3, size + 3);
      this.inBytes = this.inBytes.subarray(size + 3);
      this.chain = this.chain
        .then(() => this.frame(frame))
        .catch((err: unknown) => {
          this.events.error(this, err);
        });
    }
  }

  /** Encodes and sends one stanza; dropped once the connection is closed or silent. */
  send(node: BinaryNode): void {
    if (!this.live || !this.transport) return;
    this.sendFrame(this.transport.encrypt(encodeBinaryNode(node)));
  }

  /** A server-initiated iq id. */
  newId(): string {
    return `sim.${this.id}.${this.nextId++}`;
  }

  /** Sends an iq and resolves with the client's answer (any node with the same id). */
  query(node: BinaryNode, timeoutMs: number): Promise<BinaryNode> {
    const id = node.attrs['id'] ?? this.newId();
    node.attrs['id'] = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error('the client did not answer in time'));
      }, timeoutMs);
      this.waiters.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.send(node);
    });
  }

  /** Resolves a pending `query`; false when nothing waited for this id. */
  answer(node: BinaryNode): boolean {
    const id = node.attrs['id'];
    const waiter = id === undefined ? undefined : this.waiters.get(id);
    if (!waiter || id === undefined) return false;
    this.waiters.delete(id);
    waiter(node);
    return true;
  }

  /**
   * Ends the connection as WhatsApp does: the terminal stanza (if any), then the client closes;
   * the server cuts the socket after a grace period if it does not.
   */
  end(node: BinaryNode | null): void {
    if (this.state === 'closed') return;
    if (node && this.transport && this.state !== 'silent') {
      this.sendFrame(this.transport.encrypt(encodeBinaryNode(node)));
    }
    this.markClosed();
    if (node) {
      setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
    } else {
      this.socket.terminate();
    }
  }

  /** Stops every answer and push: the client sees silence and ends with 408 on its own. */
  silence(): void {
    if (!this.live) return;
    this.state = 'silent';
    this.clearTimer();
    setTimeout(() => this.end(null), SILENT_MAX_MS).unref();
  }

  /** The socket is gone. */
  socketClosed(): void {
    this.markClosed();
    this.waiters.clear();
  }

  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private markClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimer();
    this.events.closed(this);
  }

  private sendFrame(bytes: Buffer): void {
    const header = Buffer.from([
      (bytes.length >>> 16) & 0xff,
      (bytes.length >>> 8) & 0xff,
      bytes.length & 0xff,
    ]);
    this.socket.send(Buffer.concat([header, bytes]));
  }

  /** `WA 6 3`, or `ED 0 1 <len3> <routing> WA 6 3` for clients that got edge routing. */
  private readIntro(): boolean {
    let offset = 0;
    if (this.inBytes.length >= 2 && this.inBytes.subarray(0, 2).equals(INTRO_ROUTING)) {
      if (this.inBytes.length < 7) return false;
      const len = (this.inBytes[4]! << 16) | this.inBytes.readUInt16BE(5);
      offset = 7 + len;
    }
    if (this.inBytes.length < offset + NOISE_WA_HEADER.length) return false;
    if (!this.inBytes.subarray(offset, offset + NOISE_WA_HEADER.length).equals(NOISE_WA_HEADER)) {
      throw new Error('bad intro header');
    }
    this.inBytes = this.inBytes.subarray(offset + NOISE_WA_HEADER.length);
    this.introSeen = true;
    return true;
  }

  private async frame(frame: Buffer): Promise<void> {
    if (!this.live) return;
    if (this.state === 'hello') {
      const hello = this.noise.serverHello(frame);
      this.state = 'finish';
      this.sendFrame(hello);
      return;
    }
    if (this.state === 'finish') {
      const result = this.noise.clientFinish(frame);
      this.transport = result.transport;
      this.clientStatic = result.clientStatic;
      await this.events.clientFinished(this, result.payload);
      return;
    }
    if (!this.transport) return;
    const node = await decodeBinaryNode(this.transport.decrypt(frame));
    if (!this.live) return;
    const type = node.attrs['type'];
    if (node.tag === 'iq' && (type === 'result' || type === 'error') && this.answer(node)) return;
    await this.events.stanza(this, node);
  }
}
