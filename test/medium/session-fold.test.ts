import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AnyGatewayEvent, EventFence, SessionState } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import { type LeaseOwner, LeaseRepository } from '@wagw/gateway';
import { PoisonEventError } from '@wagw/messaging';
import { createDataSource } from '@wagw/persistence';
import type { DataSource } from 'typeorm';
import { FoldBatcher } from '../../apps/api/src/events/fold-batcher.js';
import { isDataError } from '../../apps/api/src/events/session-events.folder.js';
import { SessionFoldRepository } from '../../apps/api/src/sessions/session-fold.repository.js';
import { statusEvent } from '../support/gateway-events.js';
import { newOrganizationId, newSession } from '../support/session-factory.js';

/**
 * The API's fold against real Postgres, with leases taken the way a worker takes them: a row
 * takes an event only from the gateway that made the row's current claim (epoch), for the row's
 * organization, so whoever else can publish on the event subjects changes nothing.
 */

const TTL = 30_000;

interface Row {
  status: string;
  gateway_id: string | null;
  phone_number: string | null;
  status_seq: string;
}

describe('SessionFoldRepository', () => {
  let ds: DataSource;
  let fold: SessionFoldRepository;
  let leases: LeaseRepository;

  beforeAll(async () => {
    ds = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 4,
      applicationName: 'wagw-fold',
    }).initialize();
    fold = new SessionFoldRepository(ds);
    leases = new LeaseRepository(ds);
  });
  afterAll(() => ds?.destroy());

  const newOwner = (): LeaseOwner => {
    const gatewayId = `gw-fold-${randomUUID().slice(0, 8)}`;
    return { gatewayId, ownerId: `${gatewayId}/${newId()}` };
  };

  const read = async (id: string): Promise<Row> =>
    (
      await ds.query<Row[]>(
        'SELECT status, gateway_id, phone_number, status_seq FROM sessions WHERE id = $1',
        [id],
      )
    )[0]!;

  const event = (
    organizationId: string,
    sessionId: string,
    fence: EventFence,
    state: Partial<SessionState> = {},
  ): AnyGatewayEvent => statusEvent({ organizationId, sessionId, fence, state });

  /** A running session claimed by a fresh worker, as the fleet would. */
  async function claimed(): Promise<{ org: string; id: string; owner: LeaseOwner; epoch: number }> {
    const org = newOrganizationId();
    const id = await newSession(ds, org);
    const owner = newOwner();
    const [held] = await leases.claim(owner, 1, TTL, { sessionId: id });
    if (!held) throw new Error('claim failed');
    return { org, id, owner, epoch: held.epoch };
  }

  it('folds the holder’s events, also its last ones after it released the lease', async () => {
    const { org, id, owner, epoch } = await claimed();
    const holder = owner.gatewayId;
    const working = event(org, id, { gatewayId: holder, epoch, seq: 1 });
    expect(await fold.apply([working])).toBe(1);
    expect(await read(id)).toMatchObject({ status: 'working', gateway_id: holder });

    // Stop: the worker releases, and its `stopped` event is folded after that.
    expect(await leases.release(owner, id, epoch, { stopDesired: true })).toBe(true);
    const stopped = event(
      org,
      id,
      { gatewayId: holder, epoch, seq: 2 },
      {
        status: 'stopped',
        gatewayId: null,
        phoneNumber: '6281234567890',
      },
    );
    expect(await fold.apply([stopped])).toBe(1);
    expect(await read(id)).toMatchObject({ status: 'stopped', gateway_id: null, status_seq: '2' });
  });

  it('never deadlocks with the holder renewing and releasing the same sessions in another order', async () => {
    // A burst of stops or a drain: the holder releases its sessions in one statement while the
    // fold writes their events in one, and the renewal touches them too; each used to lock rows
    // in the order its plan met them (a bench run: "deadlock detected", the lease left to expire).
    const org = newOrganizationId();
    const owner = newOwner();
    for (let round = 0; round < 15; round++) {
      const ids = await Promise.all(Array.from({ length: 40 }, () => newSession(ds, org)));
      const held = await leases.claim(owner, ids.length, TTL, { sessionIds: ids });
      expect(held).toHaveLength(ids.length);
      const sorted = [...held].sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1));
      const events = [...sorted]
        .reverse()
        .map((h) =>
          event(org, h.sessionId, { gatewayId: owner.gatewayId, epoch: h.epoch, seq: 1 }),
        );
      const settled = await Promise.allSettled([
        // A burst of stops, or a drain (every lease of the process).
        round % 2
          ? leases.releaseAll(owner)
          : leases.releaseMany(
              owner,
              sorted.map((h) => ({ sessionId: h.sessionId, epoch: h.epoch, stopDesired: true })),
            ),
        fold.apply(events),
        leases.renew(owner, [...sorted.slice(20), ...sorted.slice(0, 20)], TTL),
      ]);
      const errors = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect([round, errors]).toEqual([round, []]);
    }
  });

  it('ignores an event from any other gateway, held or released, whatever its epoch and seq', async () => {
    const { org, id, owner, epoch } = await claimed();
    const forged = (seq: number) =>
      event(org, id, { gatewayId: 'gw-evil', epoch, seq }, { phoneNumber: '19999999999' });

    expect(await fold.apply([forged(1)])).toBe(0);
    expect(await read(id)).toMatchObject({ status: 'starting', phone_number: null });

    // The attack seen in review: a stopped session shown as `working` with a made-up number.
    await leases.release(owner, id, epoch, { stopDesired: true });
    expect(await fold.apply([forged(1_000)])).toBe(0);
    expect(await read(id)).toMatchObject({ status: 'starting', phone_number: null });
  });

  it('ignores the holder’s gateway id on another organization’s event or another epoch', async () => {
    const { org, id, owner, epoch } = await claimed();
    const holder = owner.gatewayId;
    const otherOrg = event(newOrganizationId(), id, { gatewayId: holder, epoch, seq: 1 });
    const otherEpoch = event(org, id, { gatewayId: holder, epoch: epoch + 1, seq: 1 });
    expect(await fold.apply([otherOrg])).toBe(0);
    expect(await fold.apply([otherEpoch])).toBe(0);
    expect((await read(id)).status).toBe('starting');
  });

  it('classifies what the SQL cannot take as a data error, and folds the good events beside it', async () => {
    const a = await claimed();
    const b = await claimed();
    const good = (c: typeof a) =>
      event(c.org, c.id, { gatewayId: c.owner.gatewayId, epoch: c.epoch, seq: 1 });
    // What a shallow check let through (the strict boundary now refuses it before the fold).
    const bad = event(a.org, newId(), { gatewayId: a.owner.gatewayId, epoch: 1.5, seq: 1 });

    const failure = await fold.apply([bad]).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isDataError(failure)).toBe(true);

    const batcher = new FoldBatcher((events) => fold.apply(events), { isPoison: isDataError });
    const results = await Promise.allSettled([good(a), bad, good(b)].map((e) => batcher.fold(e)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(PoisonEventError);
    expect((await read(a.id)).status).toBe('working');
    expect((await read(b.id)).status).toBe('working');
  });

  it('does not call a lost connection a data error', async () => {
    const other = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 1,
      applicationName: 'wagw-fold-gone',
    }).initialize();
    try {
      const [backend] = await other.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
      const inFlight = other.query('SELECT pg_sleep(10)').then(
        () => null,
        (error: unknown) => error,
      );
      await new Promise((r) => setTimeout(r, 100));
      await ds.query('SELECT pg_terminate_backend($1)', [backend!.pid]);
      const failure = await inFlight;
      expect(failure).not.toBeNull();
      expect(isDataError(failure)).toBe(false);
    } finally {
      await other.destroy().catch(() => undefined);
    }
  });
});
