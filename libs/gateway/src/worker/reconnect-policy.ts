import { WaDisconnectCode } from '@wagw/whatsapp';

/** What to do when a connection closes, by WhatsApp disconnect code (ARCHITECTURE.md). */
export type CloseAction =
  /** 515 after pairing: reconnect at once with the new credentials. */
  | { kind: 'reconnect_now' }
  /** Transient (428/408/503/500 and unknown): reconnect after a backoff, then give up. */
  | { kind: 'backoff' }
  /** 401: the device was unlinked; wipe auth, the session is unpaired and stopped. */
  | { kind: 'logged_out' }
  /** 403/411/405: permanent; the session is failed until someone restarts it. */
  | { kind: 'failed' }
  /** 440: another connection took the device: release, never reconnect blindly. */
  | { kind: 'replaced' }
  /**
   * 408 while pairing: its QR refs (or pairing code) ran out, nobody scanned. As on WhatsApp the
   * pairing is over: stopped (`qr_timeout`), its slot freed, not retried.
   */
  | { kind: 'pairing_expired' }
  /** 498: our own fenced write was refused: we no longer hold the session; stop, say nothing. */
  | { kind: 'lease_lost' };

/** The status reason of a pairing that ran out of QR codes. */
export const QR_TIMEOUT_REASON = 'qr_timeout';

export function actionForClose(code: number, context: { pairing: boolean }): CloseAction {
  if (context.pairing && code === WaDisconnectCode.connectionLost)
    return { kind: 'pairing_expired' };
  switch (code) {
    case WaDisconnectCode.restartRequired:
      return { kind: 'reconnect_now' };
    case WaDisconnectCode.loggedOut:
      return { kind: 'logged_out' };
    case WaDisconnectCode.forbidden:
    case WaDisconnectCode.multideviceMismatch:
    case 405:
      return { kind: 'failed' };
    case WaDisconnectCode.connectionReplaced:
      return { kind: 'replaced' };
    case WaDisconnectCode.leaseLost:
      return { kind: 'lease_lost' };
    default:
      return { kind: 'backoff' };
  }
}

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000, maxAttempts: 8 };

/** Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]; spreads a fleet's reconnects. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}
