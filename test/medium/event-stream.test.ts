import { mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { subjects, type AnyGatewayEvent, type ApiEvent } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import {
  createInProcessMessaging,
  createNatsEventStream,
  createNatsMessaging,
  FileEventLogStore,
  InProcessBroker,
  InProcessEventStream,
  silentMessagingLogger,
  type EventStream,
  type Messaging,
  type StreamEntry,
} from '@wagw/messaging';
import { statusEvent } from '../support/gateway-events.js';
import { waitFor } from '../support/processes.js';

/**
 * The events stream read by position (SSE, webhook intake), once per transport, and the file
 * log that gives `npm start` JetStream's durability.
 */

const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const RUN = `es${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const usedPrefixes: string[] = [];
let counter = 0;

interface World {
  stream: EventStream;
  messaging: Messaging;
  /** What the transport logged as an error (a dropped or terminated event, say). */
  errors: string[];
}

const capturing = (errors: string[]) => ({
  ...silentMessagingLogger,
  error: (_obj: object, msg?: string) => errors.push(msg ?? ''),
});

const open: { close(): Promise<void> }[] = [];
const track = <T extends { close(): Promise<void> }>(x: T): T => {
  open.push(x);
  return x;
};

const transports: { name: string; world(): World }[] = [
  {
    name: 'nats',
    world() {
      const prefix = `${RUN}n${(counter += 1)}`;
      usedPrefixes.push(prefix);
      const errors: string[] = [];
      const common = { servers: NATS_URL, prefix, logger: capturing(errors) };
      return {
        errors,
        messaging: track(
          createNatsMessaging({
            ...common,
            name: 'es-test',
            consumer: { redelivery: { baseMs: 50, capMs: 200 } },
          }),
        ),
        stream: track(createNatsEventStream({ ...common, name: 'es-test' })),
      };
    },
  },
  {
    name: 'in-process',
    world() {
      const broker = new InProcessBroker();
      const errors: string[] = [];
      return {
        errors,
        messaging: track(createInProcessMessaging(broker, { logger: capturing(errors) })),
        stream: track(new InProcessEventStream(broker)),
      };
    },
  },
];

const event = (organizationId: string, n: number): AnyGatewayEvent => ({
  ...statusEvent({
    organizationId,
    sessionId: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
    fence: { gatewayId: 'gw-a', epoch: 1, seq: n },
    state: { qr: 'internal-state-qr' },
  }),
  occurredAt: 1_719_662_400_000 + n,
});

const apiEvent = (organizationId: string): ApiEvent => ({
  id: newId(),
  type: 'webhook.disabled',
  organizationId,
  sessionId: null,
  occurredAt: Date.now(),
  data: { webhookId: newId(), url: 'https://example.com/hook', reason: 'failing', failingSince: 1 },
});

async function readN(stream: EventStream, fromSeq: number, n: number): Promise<StreamEntry[]> {
  const cursor = stream.read(fromSeq);
  const entries: StreamEntry[] = [];
  try {
    await waitFor(
      `${n} entries from ${fromSeq}`,
      async () => {
        entries.push(...(await cursor.next(n - entries.length, 200)));
        return entries.length >= n;
      },
      10_000,
      0,
    );
  } finally {
    await cursor.close();
  }
  return entries;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

afterAll(async () => {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for (const prefix of usedPrefixes)
      await jsm.streams.delete(subjects(prefix).eventsStream).catch(() => false);
  } finally {
    await nc.close();
  }
});

describe.each(transports)('event stream over $name', (transport) => {
  it('reads by position: every event once, in order, public fields only, live after the end', async () => {
    const { messaging, stream } = transport.world();
    const before = await stream.bounds();
    for (let i = 1; i <= 5; i++) messaging.publisher.publish(event('org-a', i));
    await messaging.publisher.flush(5_000);

    const all = await readN(stream, before.lastSeq + 1, 5);
    expect(all.map((e) => e.event?.occurredAt)).toEqual(
      [1, 2, 3, 4, 5].map((n) => 1_719_662_400_000 + n),
    );
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([0, 1, 2, 3, 4].map((i) => before.lastSeq + 1 + i));
    expect(Object.keys(all[0]!.event!).sort()).toEqual(
      ['data', 'id', 'occurredAt', 'organizationId', 'sessionId', 'type'].sort(),
    );
    expect(JSON.stringify(all)).not.toContain('internal-state-qr');

    // From the middle: exactly the tail.
    const tail = await readN(stream, seqs[2]!, 3);
    expect(tail.map((e) => e.seq)).toEqual(seqs.slice(2));

    // A cursor at the end waits, then sees what is published next.
    const cursor = stream.read(seqs[4]! + 1);
    expect(await cursor.next(10, 100)).toEqual([]);
    messaging.publisher.publish(event('org-b', 6));
    const live: StreamEntry[] = [];
    await waitFor('live event', async () => {
      live.push(...(await cursor.next(10, 200)));
      return live.length > 0;
    });
    await cursor.close();
    expect(live.map((e) => [e.seq, e.event?.organizationId])).toEqual([[seqs[4]! + 1, 'org-b']]);
    expect((await stream.bounds()).lastSeq).toBe(seqs[4]! + 1);
  });

  it('carries API events to readers; the gateway-event consumer acknowledges them unseen', async () => {
    const { messaging, stream, errors } = transport.world();
    const folded: string[] = [];
    await messaging.consumer.consume('fold', (event) => {
      folded.push(event.id);
      return Promise.resolve();
    });
    const start = (await stream.bounds()).lastSeq + 1;
    const disabled = apiEvent('org-a');
    await stream.publish(disabled);
    await stream.publish(disabled); // a retried publish is deduplicated
    const after = event('org-a', 7);
    messaging.publisher.publish(after);
    await messaging.publisher.flush(5_000);

    const entries = await readN(stream, start, 2);
    expect(entries.map((e) => e.event?.type)).toEqual(['webhook.disabled', 'session.status']);
    expect(entries[0]!.event).toEqual({ ...disabled });
    await waitFor('fold of the gateway event', () => Promise.resolve(folded.includes(after.id)));
    expect(folded).toEqual([after.id]);
    expect(errors).toEqual([]); // not taken for a malformed event either
    await expect(stream.publish({ ...disabled, id: 'x', data: {} as never })).rejects.toThrow();
  });
});

describe('in-process file log', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'wagw-event-log-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('keeps sequences, events and durable positions across a restart', async () => {
    const dir = tempDir();
    const first = new InProcessBroker({ store: FileEventLogStore.open(dir, { segmentEvents: 4 }) });
    const messaging = createInProcessMessaging(first, { logger: silentMessagingLogger });
    const folded: number[] = [];
    await messaging.consumer.consume('fold', (e) => {
      folded.push(e.fence.seq);
      return Promise.resolve();
    });
    for (let i = 1; i <= 10; i++) messaging.publisher.publish(event('org-a', i));
    await waitFor('fold of 10', () => Promise.resolve(folded.length === 10));
    await messaging.close();
    first.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.log'))).toHaveLength(3);

    const second = new InProcessBroker({
      store: FileEventLogStore.open(dir, { segmentEvents: 4 }),
    });
    expect([second.firstSeq, second.lastSeq]).toEqual([1, 10]);
    const again = createInProcessMessaging(second, { logger: silentMessagingLogger });
    const refolded: number[] = [];
    await again.consumer.consume('fold', (e) => {
      refolded.push(e.fence.seq);
      return Promise.resolve();
    });
    again.publisher.publish(event('org-a', 11));
    await waitFor('fold of the new event', () => Promise.resolve(refolded.length > 0));
    // The durable resumed where it was: only the new event, at the next sequence.
    expect(refolded).toEqual([11]);
    const entries = await readN(new InProcessEventStream(second), 9, 3);
    expect(entries.map((e) => [e.seq, e.event?.occurredAt])).toEqual([
      [9, 1_719_662_400_009],
      [10, 1_719_662_400_010],
      [11, 1_719_662_400_011],
    ]);
    await again.close();
    second.close();
  });

  it('cuts a line torn by a crash, and trims whole old segments past retention', () => {
    const dir = tempDir();
    const broker = new InProcessBroker({
      maxRetainedEvents: 10,
      store: FileEventLogStore.open(dir, { segmentEvents: 5 }),
    });
    for (let i = 1; i <= 30; i++) broker.append(`e${i}`, JSON.stringify(event('org-a', i)));
    broker.close();
    const segments = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort();
    // Retention 10 (+10% slack): older segments are gone, the newest are kept.
    expect(segments.length).toBeLessThanOrEqual(4);
    appendFileSync(join(dir, segments.at(-1)!), '{"id":"torn","ty');

    const reopened = new InProcessBroker({
      maxRetainedEvents: 10,
      store: FileEventLogStore.open(dir, { segmentEvents: 5 }),
    });
    expect(reopened.lastSeq).toBe(30);
    expect(reopened.firstSeq).toBeGreaterThan(1);
    expect(reopened.firstSeq).toBeLessThanOrEqual(21);
    expect(JSON.parse(reopened.get(30)!).fence.seq).toBe(30);
    expect(reopened.append('e31', JSON.stringify(event('org-a', 31)))).toBe(31);
    reopened.close();

    writeFileSync(join(dir, 'cursors.json'), '{"fold": 2'); // torn: durables restart from the head
    const third = new InProcessBroker({ store: FileEventLogStore.open(dir) });
    expect(third.lastSeq).toBe(31);
    third.close();
  });
});
