import type { DesiredState } from '@wagw/domain';

/** This worker process as a lease holder. */
export interface LeaseOwner {
  /** GATEWAY_ID, e.g. `gw-sg-1`: shown as the session's `gatewayId`. */
  gatewayId: string;
  /** `<gatewayId>/<nonce>`: unique per process start, so a restarted worker never inherits leases. */
  ownerId: string;
}

/** A session this worker holds (or just claimed), with what it needs to run it. */
export interface HeldSession {
  sessionId: string;
  organizationId: string;
  /** The fencing token of every write made for this session while holding it. */
  epoch: number;
  desiredState: DesiredState;
  paired: boolean;
  /** The linked device as the row knows it (null while unpaired). */
  phoneNumber: string | null;
  waJid: string | null;
  waLid: string | null;
  /** Encrypted creds read by the claim itself (undefined when the statement did not read them). */
  credsCiphertext?: Buffer | null;
  autoRead: boolean;
  presenceTyping: boolean;
  ratePerMin: number;
  ratePerHour: number;
}

export interface ClaimOptions {
  /** Claim only this session (a "claim now" nudge). */
  sessionId?: string;
  /** Claim only among these sessions (nudges that arrived together). */
  sessionIds?: readonly string[];
  /** Claim it even though it should not run (to log it out); requires `sessionId`. */
  forAction?: boolean;
}

export interface GatewayHeartbeat {
  /** An admin asked this gateway to drain, or another process took over this GATEWAY_ID. */
  draining: boolean;
  /**
   * The `gateways` row no longer belongs to this process (another process registered under the
   * same GATEWAY_ID, or the row is gone): this process must claim nothing more.
   */
  replaced: boolean;
}

/** A `{ sessionId, epoch }` pair: the lease this worker believes it holds. */
export interface HeldLease {
  sessionId: string;
  epoch: number;
}

/** A lease to release; `stopDesired` also records that the session should not run. */
export interface LeaseRelease extends HeldLease {
  stopDesired: boolean;
}

/** The fencing token of a write: it takes effect only while this owner holds the lease at this epoch. */
export interface LeaseFence {
  ownerId: string;
  epoch: number;
}
