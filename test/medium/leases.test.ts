import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type HeldSession, LeaseRepository, type LeaseOwner } from '@wagw/gateway';
import { createDataSource } from '@wagw/persistence';
import type { DataSource } from 'typeorm';
import {
  expireLeases,
  newOrganizationId,
  newSession,
  newSessions,
  readLeases,
} from '../support/session-factory.js';
import { createTestDatabase, dropTestDatabase } from '../support/test-database.js';

/**
 * Leases against real Postgres.
 *
 * A claim takes ANY claimable session in the database, by design (workers are not scoped to an
 * organization). On the suite's shared database it would take sessions other test files started
 * (and they ours), so this file migrates a database of its own. Within it, each test still works
 * on its own organization and parks its sessions afterwards instead of truncating.
 */

const TTL = 30_000;
let seq = 0;
const newOwner = (): LeaseOwner => {
  const gatewayId = `gw-t${++seq}-${randomUUID().slice(0, 8)}`;
  return { gatewayId, ownerId: `${gatewayId}/${randomUUID()}` };
};
const ids = (rows: readonly HeldSession[]): string[] => rows.map((r) => r.sessionId).sort();
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

describe('LeaseRepository', () => {
  let db: { name: string; url: string };
  let ds: DataSource;
  let leases: LeaseRepository;
  let org: string;
  const timings: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('wagw_leases');
    // Five workers claim concurrently: each needs its own connection.
    ds = await createDataSource({
      url: db.url,
      poolSize: 6,
      applicationName: 'wagw-leases',
    }).initialize();
    await ds.runMigrations({ transaction: 'all' });
    leases = new LeaseRepository(ds);
  });

  afterAll(async () => {
    console.log(`lease timings (median): ${timings.join('; ')}`);
    await ds?.destroy();
    if (db) await dropTestDatabase(db.name);
  });

  beforeEach(() => {
    org = newOrganizationId();
  });

  // Nothing this test started may stay claimable for the next one.
  afterEach(async () => {
    await ds.query(
      `UPDATE sessions SET desired_state = 'stopped', owner_id = NULL, lease_expires_at = NULL,
         gateway_id = NULL WHERE organization_id = $1`,
      [org],
    );
  });

  it('claims only sessions that should run, up to the free capacity, and reports them', async () => {
    const running = await newSessions(ds, org, 3, { paired: true, autoRead: true });
    running.push(...(await newSessions(ds, org, 2)));
    const stopped = await newSessions(ds, org, 3, { desiredState: 'stopped' });
    const a = newOwner();
    const before = await readLeases(ds, running);

    expect(await leases.claim(a, 0, TTL)).toEqual([]);
    const first = await leases.claim(a, 3, TTL);
    expect(first).toHaveLength(3);
    const second = await leases.claim(a, 10, TTL);
    expect(second).toHaveLength(2);
    expect(await leases.claim(a, 10, TTL)).toEqual([]);

    const claimed = [...first, ...second];
    expect(ids(claimed)).toEqual([...running].sort());
    const paired = new Set(running.slice(0, 3));
    for (const row of claimed) {
      expect(row).toEqual({
        sessionId: row.sessionId,
        organizationId: org,
        epoch: 1,
        desiredState: 'running',
        paired: paired.has(row.sessionId),
        // The worker needs the linked identity to describe the session in its events.
        phoneNumber: paired.has(row.sessionId) ? expect.stringMatching(/^6590000\d{4}$/) : null,
        waJid: null,
        waLid: null,
        credsCiphertext: null,
        autoRead: paired.has(row.sessionId),
        presenceTyping: false,
        ratePerMin: 20,
        ratePerHour: 600,
      });
    }
    const after = await readLeases(ds, [...running, ...stopped]);
    for (const id of running) {
      const lease = after.get(id)!;
      expect(lease).toMatchObject({ ownerId: a.ownerId, gatewayId: a.gatewayId, epoch: 1 });
      expect(lease.leaseLeftMs).toBeGreaterThan(TTL - 5_000);
      expect(lease.leaseLeftMs).toBeLessThanOrEqual(TTL + 1);
      // Lease churn is not a change the organization made.
      expect(lease.updatedAt).toEqual(before.get(id)!.updatedAt);
    }
    for (const id of stopped) {
      expect(after.get(id)).toMatchObject({ ownerId: null, gatewayId: null, epoch: 0 });
    }
  });

  it('never hands a live lease to two workers: 5 concurrent workers, 200 sessions', async () => {
    const all = await newSessions(ds, org, 200);
    const workers = Array.from({ length: 5 }, newOwner);
    const got = new Map(workers.map((w) => [w.ownerId, [] as HeldSession[]]));

    // Capacity 60 each (300 > 200), so the workers compete for the same rows in every round.
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(workers.map((w) => leases.claim(w, 60, TTL)));
      results.forEach((rows, i) => got.get(workers[i]!.ownerId)!.push(...rows));
      if (results.every((rows) => rows.length === 0)) break;
    }

    const claimedBy = new Map<string, string>();
    for (const [ownerId, rows] of got) {
      for (const row of rows) {
        expect(claimedBy.get(row.sessionId)).toBeUndefined();
        claimedBy.set(row.sessionId, ownerId);
        expect(row.epoch).toBe(1);
      }
    }
    expect([...claimedBy.keys()].sort()).toEqual([...all].sort());
    const stored = await readLeases(ds, all);
    for (const id of all) {
      expect(stored.get(id)).toMatchObject({ ownerId: claimedBy.get(id), epoch: 1 });
    }
    // Load spreads: nobody took everything.
    for (const rows of got.values()) expect(rows.length).toBeLessThanOrEqual(60);
    // And once all are held, more rounds claim nothing.
    const again = await Promise.all(workers.map((w) => leases.claim(w, 60, TTL)));
    expect(again.flat()).toEqual([]);
  });

  it('measures a 200-row claim round by 5 concurrent workers', async () => {
    await newSessions(ds, org, 200);
    const workers = Array.from({ length: 5 }, newOwner);
    const samples: number[] = [];
    for (let trial = 0; trial < 9; trial++) {
      const t0 = performance.now();
      const results = await Promise.all(workers.map((w) => leases.claim(w, 40, TTL)));
      samples.push(performance.now() - t0);
      expect(results.flat()).toHaveLength(200);
      await Promise.all(workers.map((w) => leases.releaseAll(w)));
    }
    timings.push(`claim 200 rows / 5 workers ${median(samples).toFixed(1)} ms`);
  });

  it('lets a lease that expired be claimed again, with the next epoch', async () => {
    const id = await newSession(ds, org);
    const a = newOwner();
    const b = newOwner();
    expect(await leases.claim(a, 1, 150)).toMatchObject([{ sessionId: id, epoch: 1 }]);
    expect(await leases.claim(b, 1, TTL)).toEqual([]);
    // The database clock decides: wait out the real TTL.
    await new Promise((r) => setTimeout(r, 250));
    expect(await leases.claim(b, 1, TTL)).toMatchObject([{ sessionId: id, epoch: 2 }]);
    expect((await readLeases(ds, [id])).get(id)).toMatchObject({
      ownerId: b.ownerId,
      gatewayId: b.gatewayId,
      epoch: 2,
    });
    expect(await leases.renew(a, [{ sessionId: id, epoch: 1 }], TTL)).toEqual([]);
  });

  it('claims never-held sessions first, then the longest-expired leases', async () => {
    const a = newOwner();
    const [older, newer] = await newSessions(ds, org, 2);
    await leases.claim(a, 2, TTL);
    await expireLeases(ds, [older!], 60_000);
    await expireLeases(ds, [newer!], 1_000);
    const fresh = await newSession(ds, org);
    const b = newOwner();
    expect(ids(await leases.claim(b, 1, TTL))).toEqual([fresh]);
    expect(ids(await leases.claim(b, 1, TTL))).toEqual([older]);
    expect(await leases.claim(b, 1, TTL)).toMatchObject([{ sessionId: newer, epoch: 2 }]);
  });

  it("is fair across organizations: one organization's backlog does not starve another's", async () => {
    const busy = await newSessions(ds, org, 60);
    const other = newOrganizationId();
    try {
      // Busy's first 30 and one of the other's were held by a worker that died: busy's long ago.
      const dead = newOwner();
      expect(await leases.claim(dead, 30, TTL)).toHaveLength(30);
      const expiredLate = await newSessions(ds, other, 1);
      expect(await leases.claim(dead, 1, TTL, { sessionId: expiredLate[0]! })).toHaveLength(1);
      await expireLeases(ds, busy, 60_000);
      await expireLeases(ds, expiredLate, 1_000);
      const late = await newSessions(ds, other, 2);
      const w = newOwner();
      const first = ids(await leases.claim(w, 6, TTL));
      // Each organization's first never-held sessions, in turns: 2 of each late one's, the rest busy's.
      expect(first).toEqual(expect.arrayContaining(late));
      expect(first.filter((id) => busy.includes(id))).toHaveLength(4);
      // Among the expired leases too: the other organization's one is not behind 30 of busy's.
      const rest = ids(await leases.claim(w, 40, TTL));
      expect(rest).toEqual(expect.arrayContaining(expiredLate));
    } finally {
      await ds.query(
        `UPDATE sessions SET desired_state = 'stopped', owner_id = NULL, lease_expires_at = NULL
           WHERE organization_id = $1`,
        [other],
      );
    }
  });

  it('renews only leases still held at their epoch, and returns fresh desired state', async () => {
    const a = newOwner();
    const b = newOwner();
    const [kept, stolen, stoppedByApi, lapsed] = await newSessions(ds, org, 4);
    expect(await leases.claim(a, 4, TTL)).toHaveLength(4);
    // A peer takes one after its lease ran out (epoch 2).
    await expireLeases(ds, [stolen!]);
    expect(await leases.claim(b, 1, TTL, { sessionId: stolen! })).toMatchObject([{ epoch: 2 }]);
    // The API stops one and changes its settings; its NATS "stop" may have been lost.
    await ds.query(
      `UPDATE sessions SET desired_state = 'stopped', auto_read = true, rate_per_min = 5 WHERE id = $1`,
      [stoppedByApi],
    );
    // One expired with nobody claiming it: lost all the same (see LeaseRepository.renew).
    await expireLeases(ds, [lapsed!], 10);
    await ds.query(
      `UPDATE sessions SET lease_expires_at = now() + interval '1 second' WHERE id = $1`,
      [kept],
    );

    const renewed = await leases.renew(
      a,
      [kept!, stolen!, stoppedByApi!, lapsed!].map((sessionId) => ({ sessionId, epoch: 1 })),
      TTL,
    );
    expect(ids(renewed)).toEqual([kept!, stoppedByApi!].sort());
    expect(renewed.find((r) => r.sessionId === stoppedByApi)).toMatchObject({
      desiredState: 'stopped',
      autoRead: true,
      ratePerMin: 5,
      epoch: 1,
    });
    const stored = await readLeases(ds, [kept!, stolen!, lapsed!]);
    expect(stored.get(kept!)!.leaseLeftMs).toBeGreaterThan(TTL - 5_000);
    expect(stored.get(stolen!)).toMatchObject({ ownerId: b.ownerId, epoch: 2 });
    expect(stored.get(lapsed!)!.leaseLeftMs).toBeLessThan(0);

    // A wrong epoch, or another owner at the right epoch, renews nothing.
    expect(await leases.renew(a, [{ sessionId: kept!, epoch: 2 }], TTL)).toEqual([]);
    expect(await leases.renew(b, [{ sessionId: kept!, epoch: 1 }], TTL)).toEqual([]);
    expect(await leases.renew(a, [], TTL)).toEqual([]);
  });

  it('measures renewing 1,000 leases in one statement', async () => {
    const a = newOwner();
    await newSessions(ds, org, 1_000);
    const held = await leases.claim(a, 1_000, TTL);
    expect(held).toHaveLength(1_000);
    const samples: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      const renewed = await leases.renew(a, held, TTL);
      samples.push(performance.now() - t0);
      expect(renewed).toHaveLength(1_000);
    }
    timings.push(`renew 1,000 leases ${median(samples).toFixed(1)} ms`);
  });

  it('releases only at the right owner and epoch, clearing the gateway', async () => {
    const a = newOwner();
    const b = newOwner();
    const [id, stop] = await newSessions(ds, org, 2);
    await leases.claim(a, 2, TTL);
    const before = await readLeases(ds, [id!, stop!]);

    expect(await leases.release(a, id!, 2)).toBe(false);
    expect(await leases.release(b, id!, 1)).toBe(false);
    const { leaseLeftMs: _then, ...unchanged } = before.get(id!)!;
    expect((await readLeases(ds, [id!])).get(id!)).toEqual({
      ...unchanged,
      leaseLeftMs: expect.any(Number),
    });

    expect(await leases.release(a, id!, 1)).toBe(true);
    expect((await readLeases(ds, [id!])).get(id!)).toMatchObject({
      ownerId: null,
      gatewayId: null,
      leaseLeftMs: null,
      epoch: 1,
      desiredState: 'running',
    });
    expect(await leases.release(a, id!, 1)).toBe(false);
    // Released while it should still run: a peer takes it at once, without waiting for expiry.
    expect(await leases.claim(b, 1, TTL)).toMatchObject([{ sessionId: id, epoch: 2 }]);

    // Give-up / logout: released and recorded as "should not run" (a change the org sees).
    expect(await leases.release(a, stop!, 1, { stopDesired: true })).toBe(true);
    const stopped = (await readLeases(ds, [stop!])).get(stop!)!;
    expect(stopped).toMatchObject({ ownerId: null, gatewayId: null, desiredState: 'stopped' });
    expect(stopped.updatedAt.getTime()).toBeGreaterThan(before.get(stop!)!.updatedAt.getTime());
    expect(await leases.claim(b, 1, TTL)).toEqual([]);
  });

  it('releases many in one statement: each at its owner and epoch, stopped only when asked', async () => {
    const a = newOwner();
    const b = newOwner();
    const ids = await newSessions(ds, org, 4);
    await leases.claim(a, 3, TTL);
    await leases.claim(b, 1, TTL);
    const stored = await readLeases(ds, ids);
    const ofA = ids.filter((id) => stored.get(id)!.ownerId === a.ownerId);
    const ofB = ids.find((id) => stored.get(id)!.ownerId === b.ownerId)!;

    const released = await leases.releaseMany(a, [
      { sessionId: ofA[0]!, epoch: 1, stopDesired: false },
      { sessionId: ofA[1]!, epoch: 1, stopDesired: true },
      { sessionId: ofA[2]!, epoch: 2, stopDesired: false }, // not its epoch
      { sessionId: ofB, epoch: 1, stopDesired: true }, // not its lease
    ]);

    expect(released).toEqual(new Set([ofA[0], ofA[1]]));
    const after = await readLeases(ds, ids);
    expect(after.get(ofA[0]!)).toMatchObject({ ownerId: null, desiredState: 'running' });
    expect(after.get(ofA[1]!)).toMatchObject({ ownerId: null, desiredState: 'stopped' });
    expect(after.get(ofA[2]!)).toMatchObject({ ownerId: a.ownerId, desiredState: 'running' });
    expect(after.get(ofB)).toMatchObject({ ownerId: b.ownerId, desiredState: 'running' });
    expect(await leases.releaseMany(a, [])).toEqual(new Set());
  });

  it('releaseAll clears every lease of this process and no other', async () => {
    const a = newOwner();
    const b = newOwner();
    const all = await newSessions(ds, org, 5);
    await leases.claim(a, 3, TTL);
    await leases.claim(b, 2, TTL);
    expect(await leases.releaseAll(a)).toBe(3);
    expect(await leases.releaseAll(a)).toBe(0);
    const stored = [...(await readLeases(ds, all)).values()];
    expect(stored.filter((l) => l.ownerId === null && l.gatewayId === null)).toHaveLength(3);
    expect(stored.filter((l) => l.ownerId === b.ownerId)).toHaveLength(2);
  });

  it('registers gateways, reports draining, and fences a process replaced under its id', async () => {
    const first = newOwner();
    const restarted = { gatewayId: first.gatewayId, ownerId: `${first.gatewayId}/${randomUUID()}` };
    await leases.register(first, 10);
    expect(await leases.heartbeat(first, 4)).toEqual({ draining: false, replaced: false });
    let live = (await leases.listLive(10_000)).find((g) => g.id === first.gatewayId);
    expect(live).toMatchObject({ ownerId: first.ownerId, capacity: 10, sessionsHeld: 4 });
    expect(live!.lastSeenAt).toBeInstanceOf(Date);

    expect(await leases.setDraining(first.gatewayId)).toMatchObject({
      id: first.gatewayId,
      draining: true,
    });
    expect(await leases.setDraining('gw-nonexistent')).toBeNull();
    expect(await leases.heartbeat(first, 4)).toEqual({ draining: true, replaced: false });

    // Same GATEWAY_ID, new process: the row is its own and draining is reset.
    await leases.register(restarted, 12);
    expect(await leases.heartbeat(restarted, 0)).toEqual({ draining: false, replaced: false });
    expect(await leases.heartbeat(first, 4)).toEqual({ draining: true, replaced: true });
    live = (await leases.listLive(10_000)).find((g) => g.id === first.gatewayId);
    expect(live).toMatchObject({ ownerId: restarted.ownerId, capacity: 12, sessionsHeld: 0 });

    // A gateway not seen for a while is not listed.
    await ds.query(`UPDATE gateways SET last_seen_at = now() - interval '1 minute' WHERE id = $1`, [
      first.gatewayId,
    ]);
    expect((await leases.listLive(10_000)).map((g) => g.id)).not.toContain(first.gatewayId);
  });

  it('claims one named session, and a stopped one only for an action', async () => {
    const a = newOwner();
    const b = newOwner();
    const [other, target] = await newSessions(ds, org, 2);
    const stopped = await newSession(ds, org, { desiredState: 'stopped', paired: true });

    expect(ids(await leases.claim(a, 5, TTL, { sessionId: target! }))).toEqual([target]);
    expect((await readLeases(ds, [other!])).get(other!)!.ownerId).toBeNull();

    expect(await leases.claim(a, 1, TTL, { sessionId: stopped })).toEqual([]);
    expect(await leases.claim(a, 1, TTL, { sessionId: stopped, forAction: true })).toEqual([
      expect.objectContaining({
        sessionId: stopped,
        desiredState: 'stopped',
        paired: true,
        epoch: 1,
      }),
    ]);
    // Held for the action: nobody else gets it, not even for an action.
    expect(await leases.claim(b, 1, TTL, { sessionId: stopped, forAction: true })).toEqual([]);
    // An action names its session: a general claim never takes stopped sessions.
    await expect(leases.claim(a, 1, TTL, { forAction: true })).rejects.toThrow(/sessionId/);
  });
});
