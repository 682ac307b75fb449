import { FixedTtlQueue } from './fixed-ttl.queue.js';
import { WA_SIM_QR_PREFIX } from './protocol.js';
import type { SimConnection } from './sim-connection.model.js';
import { SimError } from './sim.errors.js';
import { newPairingCode, newQrRef } from './sim-ids.util.js';

export interface PairingOptions {
  qrTtlMs: number;
  /** Unscanned refs shown before the network gives up (0 = never). */
  qrMaxRefs: number;
  pairingCodeTtlMs: number;
  now: () => number;
}

export interface PairingEntry {
  clientId: string;
  since: number;
  mode: 'qr' | 'code';
  expiresAt: number | null;
  /** The number a pairing code was requested for. */
  phoneNumber: string | null;
}

/** How many retired refs/codes are remembered, to answer "expired" instead of "unknown". */
const RETIRED_MEMORY = 10_000;

/**
 * Unpaired connections waiting for a phone: their rotating QR refs and pairing codes. Each mode
 * has one FixedTtlQueue (one timer) for every connection in it.
 */
export class PairingRegistry {
  private readonly byRef = new Map<string, SimConnection>();
  private readonly byCode = new Map<string, SimConnection>();
  private readonly retired = new Set<string>();
  private readonly qrQueue: FixedTtlQueue<SimConnection>;
  private readonly codeQueue: FixedTtlQueue<SimConnection>;

  constructor(
    private readonly options: PairingOptions,
    /** Called when a connection ran out of QR refs or its code expired; it must be closed. */
    private readonly onGiveUp: (conn: SimConnection, reason: string) => void,
  ) {
    this.qrQueue = new FixedTtlQueue(options.qrTtlMs, (conn) => this.rotateQr(conn), options.now);
    this.codeQueue = new FixedTtlQueue(
      options.pairingCodeTtlMs,
      (conn) => {
        this.remove(conn);
        this.onGiveUp(conn, 'pairing code expired');
      },
      options.now,
    );
  }

  get size(): number {
    return this.qrQueue.size + this.codeQueue.size;
  }

  /** Starts QR pairing: the first ref is sent at once. */
  start(conn: SimConnection): void {
    this.rotateQr(conn);
  }

  /** Switches the connection to the code flow: QR rotation stops, the code lives its TTL. */
  requestCode(conn: SimConnection, phoneNumber: string): { code: string; expiresAt: number } {
    this.retireQr(conn);
    this.qrQueue.delete(conn);
    this.retireCode(conn);
    let code = newPairingCode();
    while (this.byCode.has(code)) code = newPairingCode();
    this.byCode.set(code, conn);
    conn.pairingCode = code;
    conn.pairingPhone = phoneNumber;
    return { code, expiresAt: this.codeQueue.add(conn) };
  }

  /** The connection showing this QR payload; 404 unknown, 409 expired. */
  findByQr(qr: string): SimConnection {
    const ref = qr.slice(WA_SIM_QR_PREFIX.length);
    const conn = this.byRef.get(ref);
    const expiresAt = conn ? this.qrQueue.expiresAt(conn) : undefined;
    if (conn && expiresAt !== undefined && expiresAt > this.options.now()) return conn;
    if (conn || this.retired.has(`qr:${ref}`)) {
      throw new SimError('failed_precondition', 'QR code expired', { reason: 'expired' });
    }
    throw new SimError('not_found', 'unknown QR code', { field: 'qr' });
  }

  /** The connection that requested this code for this phone; 404 unknown, 409 expired/mismatch. */
  findByCode(code: string, phoneNumber: string): SimConnection {
    const conn = this.byCode.get(code);
    const expiresAt = conn ? this.codeQueue.expiresAt(conn) : undefined;
    if (conn && expiresAt !== undefined && expiresAt > this.options.now()) {
      if (conn.pairingPhone !== phoneNumber) {
        throw new SimError(
          'failed_precondition',
          'the pairing code was requested for another phone number',
          { reason: 'phone_mismatch' },
        );
      }
      return conn;
    }
    if (conn || this.retired.has(`code:${code}`)) {
      throw new SimError('failed_precondition', 'pairing code expired', { reason: 'expired' });
    }
    throw new SimError('not_found', 'unknown pairing code', { field: 'code' });
  }

  /** Forgets the connection (linked, closed or given up); its ref and code become invalid. */
  remove(conn: SimConnection): void {
    this.retireQr(conn);
    this.retireCode(conn);
    this.qrQueue.delete(conn);
    this.codeQueue.delete(conn);
  }

  describe(conn: SimConnection): PairingEntry {
    const code = conn.pairingCode !== null;
    return {
      clientId: conn.clientId,
      since: conn.since,
      mode: code ? 'code' : 'qr',
      expiresAt: (code ? this.codeQueue.expiresAt(conn) : this.qrQueue.expiresAt(conn)) ?? null,
      phoneNumber: conn.pairingPhone,
    };
  }

  clear(): void {
    this.qrQueue.clear();
    this.codeQueue.clear();
    this.byRef.clear();
    this.byCode.clear();
  }

  private rotateQr(conn: SimConnection): void {
    this.retireQr(conn);
    const { qrMaxRefs } = this.options;
    if (qrMaxRefs > 0 && conn.qrCount >= qrMaxRefs) {
      this.onGiveUp(conn, 'QR refs attempts ended');
      return;
    }
    const ref = newQrRef();
    conn.qrRef = ref;
    conn.qrCount++;
    this.byRef.set(ref, conn);
    const expiresAt = this.qrQueue.add(conn);
    conn.send({ type: 'qr', ref, qr: `${WA_SIM_QR_PREFIX}${ref}`, expiresAt });
  }

  private retireQr(conn: SimConnection): void {
    if (conn.qrRef === null) return;
    this.byRef.delete(conn.qrRef);
    this.remember(`qr:${conn.qrRef}`);
    conn.qrRef = null;
  }

  private retireCode(conn: SimConnection): void {
    if (conn.pairingCode === null) return;
    this.byCode.delete(conn.pairingCode);
    this.remember(`code:${conn.pairingCode}`);
    conn.pairingCode = null;
  }

  private remember(key: string): void {
    this.retired.add(key);
    if (this.retired.size > RETIRED_MEMORY) {
      this.retired.delete(this.retired.values().next().value as string);
    }
  }
}
