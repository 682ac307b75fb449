import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { subjects, type AnyGatewayEvent } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import { call } from '../support/api-process.js';
import { Fleet } from '../support/fleet.js';
import { statusEvent } from '../support/gateway-events.js';
import { waitFor } from '../support/processes.js';

/**
 * Poison events on the real stream, folded by the real API process: an event that passes a
 * shallow check but that the fold's SQL cannot take (`epoch: 1.5` is not a bigint) must be
 * refused at the boundary, and must not hold up good events, whatever their number.
 */

/** An event that looks right to a shallow check; `epoch: 1.5` fails the fold's bigint cast. */
const poison = (n: number): AnyGatewayEvent =>
  statusEvent({
    organizationId: 'org_poison',
    sessionId: newId(),
    fence: { gatewayId: 'gw-a', epoch: 1.5, seq: n },
  });

describe('poison events', () => {
  const fleet = new Fleet();
  let token: string;
  let nc: NatsConnection;

  beforeAll(async () => {
    await fleet.start(['gw-a']);
    token = await fleet.apiKey('org_poison_events');
    nc = await connect({ servers: fleet.natsUrl });
  });
  afterAll(async () => {
    await nc?.close();
    await fleet.stop();
  });

  it('1,000 events the fold cannot take neither stop the fold nor fail good events', async () => {
    const s = subjects(fleet.prefix);
    // 1,000 acks at once on a loaded CI machine can take longer than the 5 s default.
    const js = jetstream(nc, { timeout: 60_000 });
    await Promise.all(
      Array.from({ length: 1_000 }, (_, n) =>
        js.publish(s.event('session.status'), JSON.stringify(poison(n + 1))),
      ),
    );

    // Good events arrive behind and among them: a new session must still reach the QR.
    const created = await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', {
      token,
      body: { start: true },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await waitFor(
      'the new session folded to scan_qr_code',
      async () => {
        const res = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${id}`, { token });
        return res.body.status === 'scan_qr_code';
      },
      20_000,
      200,
    );

    // And the poison is gone from the consumer, not waiting for another redelivery.
    const jsm = await jetstreamManager(nc);
    const info = await waitFor(
      'nothing pending on the fold consumer',
      async () => {
        const c = await jsm.consumers.info(s.eventsStream, 'api-session-fold');
        return c.num_ack_pending === 0 && c.num_pending === 0 ? c : null;
      },
      20_000,
      200,
    );
    expect(info.delivered.stream_seq).toBeGreaterThanOrEqual(1_000);

    // Each one was delivered once and kept, with why, on the dead-letter subject.
    const dead = await jsm.streams.info(s.deadLettersStream);
    expect(dead.state.messages).toBe(1_000);
    const first = await jsm.streams.getMessage(s.deadLettersStream, { seq: dead.state.first_seq });
    expect(first?.subject).toBe(s.deadLetter('api-session-fold'));
    expect(first?.header.get('Wagw-Reason')).toBe('malformed');
    expect(first?.header.get('Wagw-Deliveries')).toBe('1');
    expect(first?.header.get('Wagw-Error')).toMatch(/fence\.epoch/);
  });
});
