import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WaSimControlClient } from '@wagw/wa-sim';
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
  const fleet = new Fleet({ driver: 'baileys', leaseTtlMs: 3_000 });
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
    sim = new WaSimControlClient(fleet.sim.controlUrl);
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
});
