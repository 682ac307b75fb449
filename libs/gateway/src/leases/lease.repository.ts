import type { DesiredState } from '@wagw/domain';
import { GatewayEntity, sessionsLockedInIdOrder } from '@wagw/persistence';
import type { DataSource } from 'typeorm';
import type {
  ClaimOptions,
  GatewayHeartbeat,
  HeldLease,
  HeldSession,
  LeaseOwner,
  LeaseRelease,
} from './lease.types.js';

/** Columns a worker needs to run a session, as `sessions` rows are returned by claim and renew. */
const HELD_COLUMNS = `s.id, s.organization_id, s.epoch, s.desired_state,
  s.phone_number IS NOT NULL AS paired, s.phone_number, s.wa_jid, s.wa_lid, s.auto_read, s.presence_typing, s.rate_per_min,
  s.rate_per_hour`;

interface HeldRow {
  id: string;
  organization_id: string;
  /** bigint arrives as a string from `pg`. */
  epoch: string;
  desired_state: DesiredState;
  paired: boolean;
  phone_number: string | null;
  wa_jid: string | null;
  wa_lid: string | null;
  /** Only from a claim: the session's encrypted creds, read in the same statement. */
  creds?: Buffer | null;
  auto_read: boolean;
  presence_typing: boolean;
  rate_per_min: number;
  rate_per_hour: number;
}

interface GatewayRow {
  id: string;
  owner_id: string;
  capacity: number;
  sessions_held: number;
  draining: boolean;
  started_at: Date;
  last_seen_at: Date;
}

const GATEWAY_COLUMNS = 'id, owner_id, capacity, sessions_held, draining, started_at, last_seen_at';

/** `now() + ttl` with the TTL in ms; the columns keep ms precision. */
const expiresIn = (param: string): string =>
  `now() + make_interval(secs => ${param}::float8 / 1000)`;

/**
 * Session leases and the gateways table: every read and write of lease columns goes through here.
 *
 * Invariants the queries rely on:
 * - a lease is live iff `lease_expires_at > now()` (the database clock, never a worker's);
 * - releasing clears `owner_id` and `lease_expires_at` together, so "no owner" implies "no expiry"
 *   and `lease_expires_at IS NULL OR lease_expires_at <= now()` is exactly "no live lease" — the
 *   form `sessions_claimable_idx (lease_expires_at) WHERE desired_state = 'running'` can serve;
 * - every claim bumps `epoch`: it is the fencing token of all writes made under that claim, and
 *   records the claiming gateway in `claimed_by`, which a release keeps (the API folds events
 *   only from `claimed_by` at `epoch`).
 *
 * Each method is one statement (one round trip, atomic). Lease churn never touches `updated_at`,
 * which tracks what the organization sees change; only a release that records a stop does.
 */
export class LeaseRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Registers this process as the gateway `owner.gatewayId`. A restarted process under the same
   * id replaces the row (new owner id) and clears `draining`; the previous process then reads
   * `replaced` at its next heartbeat. Leases the previous process held are not touched: they
   * expire or are released by it, because it may still have sockets open.
   */
  async register(owner: LeaseOwner, capacity: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO gateways (id, owner_id, capacity, sessions_held, draining, started_at, last_seen_at)
       VALUES ($1, $2, $3, 0, false, now(), now())
       ON CONFLICT (id) DO UPDATE SET owner_id = EXCLUDED.owner_id, capacity = EXCLUDED.capacity,
         sessions_held = 0, draining = false, started_at = now(), last_seen_at = now()`,
      [owner.gatewayId, owner.ownerId, capacity],
    );
  }

  /**
   * Claims up to `limit` sessions that should run and have no live lease: sessions never held
   * (or released) first, then the longest-expired. SKIP LOCKED lets concurrent workers take
   * disjoint rows without waiting; a row another worker claimed after this statement's snapshot
   * is re-checked on the new version (READ COMMITTED) and dropped, so a live lease is never taken.
   *
   * Fair across organizations: within each walk, organizations take turns (each one's first
   * session, then each one's second, ...), so one organization's backlog cannot starve another's
   * sessions when capacity is short. The lock walks the ranked rows in turn order and skips
   * rows a concurrent claimer holds, so concurrent workers take disjoint rows in one statement.
   * Ranking costs a sort of the claimable backlog per claim (see the leases test's timings).
   *
   * `sessionId` narrows the claim to that session (`sessionIds` to those); `forAction` (with
   * `sessionId`) claims it even
   * if it should not run, to log it out. A `limit` below 1 claims nothing.
   *
   * The update finds its rows by primary key (`= ANY`) because a join on the CTEs may be planned
   * as a hash join over the whole table.
   */
  async claim(
    owner: LeaseOwner,
    limit: number,
    ttlMs: number,
    options: ClaimOptions = {},
  ): Promise<HeldSession[]> {
    assertTtl(ttlMs);
    if (options.forAction && !options.sessionId) {
      throw new Error('a claim forAction requires a sessionId');
    }
    if (limit < 1) return [];
    const params: unknown[] = [owner.ownerId, owner.gatewayId, ttlMs, Math.floor(limit)];
    let scope = options.forAction ? 'true' : `desired_state = 'running'`;
    // A new holder has not connected yet: the row must not keep showing the old holder's
    // `working` until the new holder's first event is folded (or, with NATS down, at all).
    const status = options.forAction ? '' : `, status = 'starting'`;
    if (options.sessionId) {
      params.push(options.sessionId);
      scope += ` AND id = $${params.length}::bpchar`;
    }
    if (options.sessionIds) {
      params.push([...options.sessionIds]);
      scope += ` AND id = ANY ($${params.length}::bpchar[])`;
    }
    // Each organization's sessions in turn order, among those claimable now. The outer WHERE
    // repeats the condition so a row claimed concurrently is re-checked on its new version.
    const inTurns = (free: string, taken: string): string => `
         SELECT s.id FROM sessions s
         JOIN (
           SELECT id AS rid, row_number() OVER (PARTITION BY organization_id ORDER BY id) AS turn
           FROM sessions WHERE ${scope} AND ${free}
         ) ranked ON ranked.rid = s.id
         WHERE ${scope} AND ${free}
         ORDER BY ranked.turn, s.id
         LIMIT $4::bigint - ${taken}
         FOR UPDATE OF s SKIP LOCKED`;
    const rows = await this.dataSource.query<HeldRow[]>(
      `WITH unheld AS MATERIALIZED (${inTurns('lease_expires_at IS NULL', '0')}
       ), expired AS MATERIALIZED (${inTurns('lease_expires_at <= now()', '(SELECT count(*) FROM unheld)')}
       ), claimed AS (
         UPDATE sessions s
         SET epoch = s.epoch + 1, owner_id = $1, gateway_id = $2, claimed_by = $2,
           lease_expires_at = ${expiresIn('$3')}${status}
         WHERE s.id = ANY (ARRAY(SELECT id FROM unheld UNION ALL SELECT id FROM expired))
         RETURNING ${HELD_COLUMNS}
       )
       SELECT claimed.*, c.data AS creds FROM claimed LEFT JOIN wa_auth_creds c ON c.session_id = claimed.id`,
      params,
    );
    return rows.map((row) => ({ ...toHeld(row), credsCiphertext: row.creds ?? null }));
  }

  /**
   * Extends, in one statement, every listed lease this owner still holds at exactly that epoch.
   * The rows returned carry the current desired state and settings, so a stop is honoured even
   * if its command was lost; a lease not returned is lost and its socket must close at once.
   *
   * A lease that has already expired is not renewed, even when no peer claimed it (owner and
   * epoch still match): the worker's self-fence deadline falls before expiry, so it has closed
   * (or is closing) that socket, and fenced writes were refused during the gap. Resurrecting the
   * lease would let the worker carry on as if it had held the session throughout; instead the
   * session goes through a fresh claim, with a new epoch, possibly by this very worker.
   */
  async renew(
    owner: LeaseOwner,
    held: readonly HeldLease[],
    ttlMs: number,
  ): Promise<HeldSession[]> {
    assertTtl(ttlMs);
    if (held.length === 0) return [];
    const rows = await this.dataSource.query<HeldRow[]>(
      `WITH ${sessionsLockedInIdOrder('id = ANY($3::bpchar[])')}, renewed AS (
         UPDATE sessions s
         SET lease_expires_at = ${expiresIn('$2')}
         FROM unnest($3::bpchar[], $4::bigint[]) AS h(id, epoch)
         WHERE s.id = h.id AND s.id IN (SELECT id FROM locked)
           AND s.owner_id = $1 AND s.epoch = h.epoch AND s.lease_expires_at > now()
         RETURNING ${HELD_COLUMNS}
       )
       SELECT * FROM renewed`,
      [owner.ownerId, ttlMs, held.map((h) => h.sessionId), held.map((h) => String(h.epoch))],
    );
    return rows.map(toHeld);
  }

  /**
   * Clears the lease iff this owner holds it at `epoch` (live or just expired: clearing a lease
   * nobody else took only lets a peer claim sooner). `stopDesired` also records that the session
   * should not run (give-up, logout), which is a change the organization sees, so only then is
   * `updated_at` bumped. Returns whether the lease was still this owner's.
   */
  async release(
    owner: LeaseOwner,
    sessionId: string,
    epoch: number,
    options: { stopDesired?: boolean } = {},
  ): Promise<boolean> {
    const released = await this.releaseMany(owner, [
      { sessionId, epoch, stopDesired: options.stopDesired === true },
    ]);
    return released.has(sessionId);
  }

  /**
   * `release` for many leases in one statement (a hand-over, a burst of stops): each is cleared
   * iff this owner holds it at its epoch, and marked stopped when asked. Returns the ids whose
   * lease was still this owner's.
   */
  async releaseMany(owner: LeaseOwner, leases: readonly LeaseRelease[]): Promise<Set<string>> {
    if (leases.length === 0) return new Set();
    const rows = await this.dataSource.query<{ id: string }[]>(
      `WITH ${sessionsLockedInIdOrder('id = ANY($2::bpchar[])')}, released AS (
         UPDATE sessions s SET owner_id = NULL, lease_expires_at = NULL, gateway_id = NULL,
           desired_state = CASE WHEN h.stop THEN 'stopped' ELSE s.desired_state END,
           updated_at = CASE WHEN h.stop AND s.desired_state <> 'stopped' THEN now() ELSE s.updated_at END
         FROM unnest($2::bpchar[], $3::bigint[], $4::bool[]) AS h(id, epoch, stop)
         WHERE s.id = h.id AND s.id IN (SELECT id FROM locked)
           AND s.owner_id = $1 AND s.epoch = h.epoch
         RETURNING s.id
       )
       SELECT id FROM released`,
      [
        owner.ownerId,
        leases.map((l) => l.sessionId),
        leases.map((l) => String(l.epoch)),
        leases.map((l) => l.stopDesired),
      ],
    );
    return new Set(rows.map((r) => r.id.trim()));
  }

  /** Drain / SIGTERM: clears every lease of this process in one statement; returns how many. */
  async releaseAll(owner: LeaseOwner): Promise<number> {
    const rows = await this.dataSource.query<{ n: number }[]>(
      `WITH ${sessionsLockedInIdOrder('owner_id = $1')}, released AS (
         UPDATE sessions SET owner_id = NULL, lease_expires_at = NULL, gateway_id = NULL
         WHERE id IN (SELECT id FROM locked) AND owner_id = $1
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM released`,
      [owner.ownerId],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Reports this process alive. When the row now belongs to another process (same GATEWAY_ID
   * registered again) or is gone, answers `draining` + `replaced` so this stale process claims
   * nothing more and hands its sessions over.
   */
  async heartbeat(owner: LeaseOwner, sessionsHeld: number): Promise<GatewayHeartbeat> {
    const rows = await this.dataSource.query<{ draining: boolean }[]>(
      `WITH seen AS (
         UPDATE gateways SET last_seen_at = now(), sessions_held = $3
         WHERE id = $1 AND owner_id = $2
         RETURNING draining
       )
       SELECT draining FROM seen`,
      [owner.gatewayId, owner.ownerId, sessionsHeld],
    );
    const row = rows[0];
    return row ? { draining: row.draining, replaced: false } : { draining: true, replaced: true };
  }

  /** An admin's drain: the gateway reads it at its next heartbeat. Null when there is no such gateway. */
  async setDraining(gatewayId: string): Promise<GatewayEntity | null> {
    const rows = await this.dataSource.query<GatewayRow[]>(
      `WITH drained AS (
         UPDATE gateways SET draining = true WHERE id = $1 RETURNING ${GATEWAY_COLUMNS}
       )
       SELECT * FROM drained`,
      [gatewayId],
    );
    const row = rows[0];
    return row ? this.toGateway(row) : null;
  }

  /** Gateways seen within `staleAfterMs` (by the database clock), by id. */
  async listLive(staleAfterMs: number): Promise<GatewayEntity[]> {
    const rows = await this.dataSource.query<GatewayRow[]>(
      `SELECT ${GATEWAY_COLUMNS} FROM gateways
       WHERE last_seen_at > now() - make_interval(secs => $1::float8 / 1000)
       ORDER BY id`,
      [staleAfterMs],
    );
    return rows.map((row) => this.toGateway(row));
  }

  private toGateway(row: GatewayRow): GatewayEntity {
    return this.dataSource.getRepository(GatewayEntity).create({
      id: row.id,
      ownerId: row.owner_id,
      capacity: row.capacity,
      sessionsHeld: row.sessions_held,
      draining: row.draining,
      startedAt: row.started_at,
      lastSeenAt: row.last_seen_at,
    });
  }
}

function toHeld(row: HeldRow): HeldSession {
  return {
    sessionId: row.id,
    organizationId: row.organization_id,
    epoch: Number(row.epoch),
    desiredState: row.desired_state,
    paired: row.paired,
    phoneNumber: row.phone_number,
    waJid: row.wa_jid,
    waLid: row.wa_lid,
    autoRead: row.auto_read,
    presenceTyping: row.presence_typing,
    ratePerMin: row.rate_per_min,
    ratePerHour: row.rate_per_hour,
  };
}

function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`invalid lease TTL: ${ttlMs} ms`);
}
