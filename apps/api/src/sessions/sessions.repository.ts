import { Inject, Injectable } from '@nestjs/common';
import { type DesiredState, isId, type SessionStatus } from '@wagw/domain';
import { deleteAuthState, SessionEntity } from '@wagw/persistence';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { GroupCommitter } from '../common/group-committer.js';
import { ReadBatcher } from '../common/read-batcher.js';

export type SessionPatch = Partial<
  Pick<
    SessionEntity,
    | 'label'
    | 'autoRead'
    | 'presenceTyping'
    | 'ratePerMin'
    | 'ratePerHour'
    | 'desiredState'
    | 'status'
    | 'phoneNumber'
    | 'waJid'
    | 'waLid'
    | 'qr'
    | 'qrExpiresAt'
  >
>;

/** Which organization quota refused a write. */
export type QuotaRefusal = 'session_quota' | 'pairing_quota';

export interface OrgQuotas {
  maxSessions: number;
  /** Pairings at once: unpaired sessions meant to run. */
  maxPairing: number;
}

/**
 * A session row as the API reads it, with `leaseLive`: whether a gateway holds a live lease on
 * it, decided by the database's clock (leases are written with the database's `now()`), never
 * by this process' clock, which may be skewed from it.
 */
export interface SessionRecord extends SessionEntity {
  leaseLive: boolean;
}

const LEASE_LIVE = `(owner_id IS NOT NULL AND lease_expires_at > now()) AS lease_live`;

/** An unpaired session meant to run is pairing (showing QR codes or waiting for a code). */
const PAIRING = `desired_state = 'running' AND phone_number IS NULL`;

/** The only place sessions touch the database: the organization is in every query. */
@Injectable()
export class SessionsRepository {
  private readonly repo: Repository<SessionEntity>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(SessionEntity);
  }

  /**
   * Inserts the session unless its organization is at a quota. The count and the insert run
   * under the organization's lock, so concurrent creates on any API replica cannot overshoot;
   * the creates of one organization that arrive while its lock is busy share the next
   * transaction (group commit), so the lock costs a round trip per batch, not per request.
   */
  insertWithinQuota(session: SessionEntity, quotas: OrgQuotas): Promise<QuotaRefusal | null> {
    return this.creates.submit(session.organizationId, { session, quotas });
  }

  private readonly creates = new GroupCommitter<
    { session: SessionEntity; quotas: OrgQuotas },
    QuotaRefusal | null
  >((organizationId, items) =>
    this.underOrgLock(organizationId, async (manager) => {
      const maxSessions = Math.max(...items.map((i) => i.quotas.maxSessions));
      const maxPairing = Math.max(...items.map((i) => i.quotas.maxPairing));
      // Counting stops at the limit: the cost is bounded by the quota, not the table.
      const [counts] = await manager.query<{ sessions: number; pairing: number }[]>(
        `SELECT
           (SELECT count(*) FROM (SELECT 1 FROM sessions WHERE organization_id = $1 LIMIT $2) s)::int
             AS sessions,
           (SELECT count(*) FROM (SELECT 1 FROM sessions WHERE organization_id = $1 AND ${PAIRING}
             LIMIT $3) p)::int AS pairing`,
        [organizationId, maxSessions, maxPairing],
      );
      let { sessions, pairing } = counts!;
      const accepted: SessionEntity[] = [];
      const results = items.map(({ session, quotas }): QuotaRefusal | null => {
        if (sessions >= quotas.maxSessions) return 'session_quota';
        const pairs = session.desiredState === 'running' && session.phoneNumber === null;
        if (pairs && pairing >= quotas.maxPairing) return 'pairing_quota';
        sessions += 1;
        if (pairs) pairing += 1;
        accepted.push(session);
        return null;
      });
      if (accepted.length > 0) await manager.insert(SessionEntity, accepted);
      return results;
    }),
  );

  /**
   * Makes an unpaired session pair (desired `running`) unless its organization already has
   * `maxPairing` other pairings; atomic with the count, as `insertWithinQuota`.
   */
  async startPairingWithinQuota(
    organizationId: string,
    id: string,
    maxPairing: number,
    status: SessionStatus,
  ): Promise<SessionRecord | 'pairing_quota' | null> {
    if (!isId(id)) return null;
    return this.underOrgLock(organizationId, async (manager) => {
      const [counts] = await manager.query<{ pairing: number }[]>(
        `SELECT count(*)::int AS pairing FROM (SELECT 1 FROM sessions
          WHERE organization_id = $1 AND id <> $2 AND ${PAIRING} LIMIT $3) p`,
        [organizationId, id, maxPairing],
      );
      if (counts!.pairing >= maxPairing) return 'pairing_quota';
      return this.update(organizationId, id, { desiredState: 'running', status }, manager);
    });
  }

  /** Serialises quota checks of one organization across every API replica (transaction-scoped). */
  private underOrgLock<T>(
    organizationId: string,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `wagw:org-quota:${organizationId}`,
      ]);
      return work(manager);
    });
  }

  async findOne(organizationId: string, id: string): Promise<SessionRecord | null> {
    // A malformed id names no session; it must not reach the char(26) column as an error.
    if (!isId(id)) return null;
    return (await this.reads.load({ organizationId, id })) ?? null;
  }

  /**
   * The hottest read of the API: plain SQL (no query builder), and the reads of one event-loop
   * turn share one statement. The organization is part of the match, as in every query here.
   */
  private readonly reads = new ReadBatcher<{ organizationId: string; id: string }, SessionRecord>(
    async (keys) => {
      const rows: Record<string, unknown>[] = await this.dataSource.query(
        `SELECT s.*, ${LEASE_LIVE} FROM sessions s
           JOIN unnest($1::bpchar[], $2::text[]) AS k(id, organization_id)
             ON s.id = k.id AND s.organization_id = k.organization_id`,
        [keys.map((k) => k.id), keys.map((k) => k.organizationId)],
      );
      const entities = rows.map((row) => this.fromRaw(row));
      return new Map(entities.map((e) => [`${e.organizationId}\u0000${e.id}`, e]));
    },
    (key) => `${key.organizationId}\u0000${key.id}`,
  );

  async list(organizationId: string): Promise<SessionRecord[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT *, ${LEASE_LIVE} FROM sessions WHERE organization_id = $1 ORDER BY id`,
      [organizationId],
    );
    return rows.map((row) => this.fromRaw(row));
  }

  /** Returns the updated row, or null when there is none in this organization. */
  async update(
    organizationId: string,
    id: string,
    patch: SessionPatch,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<SessionRecord | null> {
    if (!isId(id)) return null;
    const result = await manager
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ ...patch, updatedAt: () => 'now()' })
      .where('organization_id = :organizationId AND id = :id', { organizationId, id })
      .returning(`*, ${LEASE_LIVE}`)
      .execute();
    const row = (result.raw as Record<string, unknown>[])[0];
    return row ? this.fromRaw(row) : null;
  }

  /** Removes the row and its WhatsApp auth state in one transaction. */
  async delete(organizationId: string, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(SessionEntity, { organizationId, id });
      if ((result.affected ?? 0) === 0) return false;
      await deleteAuthState(manager, id);
      return true;
    });
  }

  /**
   * Records what the organization wants. `status` (optional) is the early state the caller may
   * show at once; the gateway's events, folded later, supersede it.
   */
  async setDesired(
    organizationId: string,
    id: string,
    desiredState: DesiredState,
    status?: SessionStatus,
  ): Promise<SessionRecord | null> {
    return this.update(organizationId, id, { desiredState, ...(status ? { status } : {}) });
  }

  /** After a confirmed logout: the device is unlinked, so the row is unpaired. */
  clearPairing(organizationId: string, id: string): Promise<SessionRecord | null> {
    return this.update(organizationId, id, {
      phoneNumber: null,
      waJid: null,
      waLid: null,
      qr: null,
      qrExpiresAt: null,
      status: 'stopped',
    });
  }

  /** A raw row (column names) as the entity, with the columns' transformers (bigint epoch) applied. */
  private fromRaw(row: Record<string, unknown>): SessionRecord {
    const entity = Object.assign(new SessionEntity(), { leaseLive: row.lease_live === true });
    for (const column of this.repo.metadata.columns) {
      const value = row[column.databaseName];
      const transformer = column.transformer;
      const from: unknown =
        transformer && !Array.isArray(transformer) ? transformer.from(value) : value;
      (entity as unknown as Record<string, unknown>)[column.propertyName] = from;
    }
    return entity;
  }
}
