import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WaSimControlClient } from '@wagw/wa-sim';
import { call } from '../support/api-process.js';
import { Fleet, pairSessions, type PairedSession } from '../support/fleet.js';
import { waitFor } from '../support/processes.js';

/**
 * The Signal sessions move with the auth state: a phone that talked to a session before its
 * holder was SIGKILLed keeps talking to it afterwards, and the peer that took the session over
 * decrypts and stores those messages (Baileys on wa-sim, 2 gateways, the API, NATS, Postgres).
 */

const FRIEND = '6591230077';
const FRIEND_JID = `${FRIEND}@s.whatsapp.net`;

describe('messages after a failover', () => {
  const fleet = new Fleet({ leaseTtlMs: 3_000 });
  let token: string;
  let sim: WaSimControlClient;
  let session: PairedSession;

  const texts = async (): Promise<string[]> => {
    const res = await call(
      fleet.api.baseUrl,
      'GET',
      `/api/v1/sessions/${session.id}/chats/${FRIEND_JID}/messages?limit=100`,
      { token },
    );
    expect(res.status).toBe(200);
    return (res.body.items as { text: string | null }[]).map((m) => m.text ?? '');
  };

  beforeAll(async () => {
    await fleet.start(['gw-a', 'gw-b']);
    token = await fleet.apiKey('org_failover_messages');
    sim = fleet.sim.control;
    [session] = (await pairSessions(fleet, token, ['6282500000001'])) as [PairedSession];
  });
  afterAll(async () => {
    await fleet.stop();
  });

  it('a message the phone sends after the holder is SIGKILLed is decrypted and stored by the peer', async () => {
    // Before the failover: the phone starts a Signal session with the holder (pkmsg), and the
    // holder answers on it, so the phone's next messages are plain `msg`s of that session.
    const before = await sim.sendMessage(FRIEND, session.phoneNumber, 'before the failover');
    expect(before.delivery).toBe('delivered');
    await waitFor('stored before', async () => (await texts()).includes('before the failover'));
    const reply = await call(fleet.api.baseUrl, 'POST', `/api/v1/sessions/${session.id}/messages`, {
      token,
      body: { to: `+${FRIEND}`, text: 'a reply from the holder' },
    });
    expect(reply.status).toBe(201);
    await waitFor('reply decrypted by the phone', async () =>
      (await sim.receivedMessages(FRIEND)).some((m) => m.text === 'a reply from the holder'),
    );

    const holder = fleet.gateways.get(session.gatewayId)!;
    const peer = [...fleet.gateways.keys()].find((id) => id !== session.gatewayId)!;
    await holder.stop('SIGKILL');
    await waitFor(
      'working on the peer',
      async () => {
        const s = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${session.id}`, {
          token,
        });
        return s.body.status === 'working' && s.body.gatewayId === peer;
      },
      fleet.leaseTtlMs + 15_000,
    );

    // The same Signal session (a `msg`, no prekey in it): only the moved auth state decrypts it.
    const after = await sim.sendMessage(FRIEND, session.phoneNumber, 'after the failover');
    await waitFor(
      'stored after',
      async () => (await texts()).includes('after the failover'),
      20_000,
    );
    const record = await sim.message(after.id);
    expect(record).toMatchObject({ encryption: 'msg' });
    expect((await texts()).filter((t) => t === 'after the failover')).toHaveLength(1);
    expect((await sim.connections()).evictions).toHaveLength(0);
  });

  it('a holder SIGKILLed while the phone sends 1,000 messages: each is stored exactly once', async () => {
    const N = 1_000;
    const before = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${session.id}`, {
      token,
    });
    expect(before.body.status).toBe('working');
    const holder = fleet.gateways.get(before.body.gatewayId as string)!;
    // A peer to take over (the first test's failover left the holder alone).
    const alive = (g: { process: { child: { exitCode: number | null; signalCode: unknown } } }) =>
      g.process.child.exitCode === null && g.process.child.signalCode === null;
    if (![...fleet.gateways.values()].some((g) => g.id !== holder.id && alive(g)))
      await fleet.startGateway('gw-c');
    const texts = Array.from({ length: N }, (_, i) => `burst ${i}`);
    // The phone sends 16 at a time; the holder is killed once 200 were accepted by the network,
    // with messages in flight at it (decrypted, not yet stored, or not yet acknowledged). What
    // it never acknowledged the network delivers again, to whoever logs in next.
    let accepted = 0;
    let killed: Promise<unknown> = Promise.resolve();
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          const text = texts[next++]!;
          ids.push((await sim.sendMessage(FRIEND, session.phoneNumber, text)).id);
          if (++accepted === 200) killed = holder.stop('SIGKILL');
        }
      }),
    );
    await killed;

    /** Every stored message of the chat, page by page (newest first). */
    const stored = async (): Promise<{ id: string; text: string | null }[]> => {
      const all: { id: string; text: string | null }[] = [];
      let cursor = '';
      for (;;) {
        const res = await call(
          fleet.api.baseUrl,
          'GET',
          `/api/v1/sessions/${session.id}/chats/${FRIEND_JID}/messages?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { token },
        );
        expect(res.status).toBe(200);
        all.push(...(res.body.items as { id: string; text: string | null }[]));
        cursor = (res.body.nextCursor as string | null) ?? '';
        if (!cursor) return all;
      }
    };
    const sent = new Set(ids);
    const burst = await waitFor(
      `all ${N} stored`,
      async () => {
        const found = (await stored()).filter((m) => sent.has(m.id));
        return found.length >= N ? found : null;
      },
      120_000,
      1_000,
    ).catch(async (error: unknown) => {
      const found = (await stored()).filter((m) => sent.has(m.id)).length;
      const device = await sim.device(session.phoneNumber);
      process.stdout.write(
        `stored ${found} of ${N}; the network still queues ${device.queued} for the device (connected: ${device.connected})\n`,
      );
      for (const g of fleet.gateways.values())
        process.stdout.write(`--- ${g.id}\n${g.process.output().slice(-3000)}\n`);
      throw error;
    });
    // Each once: as many rows as messages, every text there.
    expect(burst).toHaveLength(N);
    expect(new Set(burst.map((m) => m.id)).size).toBe(N);
    expect(burst.map((m) => m.text).sort()).toEqual([...texts].sort());
    const after = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${session.id}`, { token });
    expect(after.body).toMatchObject({ status: 'working' });
    expect(after.body.gatewayId).not.toBe(holder.id);
  }, 240_000);
});
