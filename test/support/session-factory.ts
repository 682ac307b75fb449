import { type DesiredState, newId } from '@wagw/domain';
import type { DataSource } from 'typeorm';

/** A fresh organization id: tests isolate by organization, never by truncating shared tables. */
export const newOrganizationId = (): string => `org_${newId().toLowerCase()}`;

export interface NewSessionsOptions {
  desiredState?: DesiredState;
  /** Linked to a phone number (so a worker would connect with stored creds). */
  paired?: boolean;
  autoRead?: boolean;
}

/** Inserts `count` sessions of `organizationId` in one statement, as the API would create them. */
export async function newSessions(
  dataSource: DataSource,
  organizationId: string,
  count: number,
  options: NewSessionsOptions = {},
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId());
  await dataSource.query(
    `INSERT INTO sessions (id, organization_id, desired_state, phone_number, auto_read,
       created_by_user_id, created_at, updated_at)
     SELECT id, $2, $3, CASE WHEN $4 THEN '6590000' || lpad(n::text, 4, '0') END, $5,
       'user_test', now() - interval '1 hour', now() - interval '1 hour'
     FROM unnest($1::bpchar[]) WITH ORDINALITY AS t(id, n)`,
    [
      ids,
      organizationId,
      options.desiredState ?? 'running',
      options.paired ?? false,
      options.autoRead ?? false,
    ],
  );
  return ids;
}

export async function newSession(
  dataSource: DataSource,
  organizationId: string,
  options: NewSessionsOptions = {},
): Promise<string> {
  const [id] = await newSessions(dataSource, organizationId, 1, options);
  return id!;
}

export interface LeaseRow {
  id: string;
  ownerId: string | null;
  gatewayId: string | null;
  epoch: number;
  desiredState: DesiredState;
  leaseExpiresAt: Date | null;
  /** ms the lease has left by the database clock; null when there is no lease. */
  leaseLeftMs: number | null;
  updatedAt: Date;
}

/** The lease columns of these sessions as stored, keyed by session id. */
export async function readLeases(
  dataSource: DataSource,
  ids: readonly string[],
): Promise<Map<string, LeaseRow>> {
  const rows = await dataSource.query<
    {
      id: string;
      owner_id: string | null;
      gateway_id: string | null;
      epoch: string;
      lease_expires_at: Date | null;
      desired_state: DesiredState;
      left_ms: number | null;
      updated_at: Date;
    }[]
  >(
    `SELECT id, owner_id, gateway_id, epoch, desired_state, updated_at, lease_expires_at,
       (extract(epoch FROM lease_expires_at - now()) * 1000)::float8 AS left_ms
     FROM sessions WHERE id = ANY($1::bpchar[])`,
    [[...ids]],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        ownerId: r.owner_id,
        gatewayId: r.gateway_id,
        epoch: Number(r.epoch),
        desiredState: r.desired_state,
        leaseExpiresAt: r.lease_expires_at,
        leaseLeftMs: r.left_ms,
        updatedAt: r.updated_at,
      },
    ]),
  );
}

/** Moves these sessions' leases into the past (by `agoMs`) as if their TTL had run out. */
export async function expireLeases(
  dataSource: DataSource,
  ids: readonly string[],
  agoMs = 1_000,
): Promise<void> {
  await dataSource.query(
    `UPDATE sessions SET lease_expires_at = now() - make_interval(secs => $2::float8 / 1000)
     WHERE id = ANY($1::bpchar[]) AND lease_expires_at IS NOT NULL`,
    [[...ids], agoMs],
  );
}
