import { toWsCloseCode, type SimServerFrame } from './protocol.js';

/** The little the network needs from a socket; the server adapts `ws` to it. */
export interface SimSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
}

/**
 * - `hello`: socket open, no hello yet.
 * - `pairing`: unpaired client waiting for a QR scan or a pairing code.
 * - `linked`: logged in as a linked device.
 * - `closed`: detached from every registry; frames to and from it are dropped.
 */
export type SimConnectionState = 'hello' | 'pairing' | 'linked' | 'closed';

/** One gateway client's WebSocket as the network sees it. */
export class SimConnection {
  state: SimConnectionState = 'hello';
  clientId = '';
  /** When the hello arrived (or the socket opened, before that). */
  since: number;
  /** Set once logged in. */
  phoneNumber: string | null = null;
  /** Pairing: the current QR ref and how many refs this connection has been shown. */
  qrRef: string | null = null;
  qrCount = 0;
  /** Pairing by code: the active code and the phone number it was requested for. */
  pairingCode: string | null = null;
  pairingPhone: string | null = null;

  constructor(
    readonly id: number,
    private readonly socket: SimSocket,
    readonly openedAt: number,
  ) {
    this.since = openedAt;
  }

  send(frame: SimServerFrame): void {
    if (this.state !== 'closed') this.socket.send(JSON.stringify(frame));
  }

  /**
   * Tells the client why, then closes with `4000 + waCode`. The caller must have detached the
   * connection from the registries first (state `closed` afterwards).
   */
  closeWith(waCode: number, reason: string): void {
    if (this.state !== 'closed') {
      this.socket.send(JSON.stringify({ type: 'close', code: waCode, reason }));
    }
    this.state = 'closed';
    this.socket.close(toWsCloseCode(waCode), reason);
  }

  /** Closes with a raw WebSocket code (protocol violation, shutdown). */
  closeRaw(wsCode: number, reason: string): void {
    this.state = 'closed';
    this.socket.close(wsCode, reason);
  }
}
