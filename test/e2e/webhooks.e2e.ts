import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId } from '@wagw/domain';
import { Webhook } from 'standardwebhooks';
import { ApiCluster } from '../support/api-cluster.js';
import { call } from '../support/api-process.js';
import { GatewayEventSource } from '../support/gateway-event-source.js';
import { waitFor } from '../support/processes.js';
import { SseRecorder } from '../support/sse-recorder.js';
import { type ReceivedRequest, WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Webhook deliveries from real API processes (Postgres, NATS) to real HTTP receivers, with
 * events published as a gateway publishes them. The retry schedule is shortened so the suite
 * runs in seconds: 300 ms doubling to 3 s, 5 attempts.
 */

const FAST_RETRIES = {
  WEBHOOK_RETRY_BASE_MS: '300',
  WEBHOOK_RETRY_MAX_DELAY_MS: '3000',
  WEBHOOK_MAX_ATTEMPTS: '5',
  WEBHOOK_POLL_MS: '200',
  WEBHOOK_TIMEOUT_MS: '2000',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const webhookIds = (requests: ReceivedRequest[]) =>
  requests.map((r) => r.headers['webhook-id'] as string);
const headersOf = (r: ReceivedRequest): Record<string, string> => ({
  'webhook-id': r.headers['webhook-id'] as string,
  'webhook-timestamp': r.headers['webhook-timestamp'] as string,
  'webhook-signature': r.headers['webhook-signature'] as string,
});

interface Created {
  id: string;
  secret: string;
}

async function createWebhook(
  cluster: ApiCluster,
  token: string,
  body: Record<string, unknown>,
  replica = 0,
): Promise<Created> {
  const res = await call(cluster.apis[replica]!.baseUrl, 'POST', '/api/v1/webhooks', {
    token,
    body,
  });
  if (res.status !== 201)
    throw new Error(`create webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Created;
}

async function deliveries(cluster: ApiCluster, token: string, webhookId: string, query = '') {
  const res = await call(
    cluster.apis[0]!.baseUrl,
    'GET',
    `/api/v1/webhooks/${webhookId}/deliveries${query}`,
    { token },
  );
  expect(res.status).toBe(200);
  return res.body.items as Record<string, any>[];
}

describe('webhooks over NATS, private networks allowed for the test receivers', () => {
  const cluster = new ApiCluster({
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8',
    ...FAST_RETRIES,
  });
  let source: GatewayEventSource;
  const orgA = `org_wh_a_${newId().toLowerCase()}`;
  const orgB = `org_wh_b_${newId().toLowerCase()}`;
  let keyA: string;
  let keyB: string;
  const receivers: WebhookReceiver[] = [];
  const receiver = async (): Promise<WebhookReceiver> => {
    const r = await new WebhookReceiver().start();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    await cluster.start(1);
    source = new GatewayEventSource(cluster.prefix);
    [keyA, keyB] = await Promise.all([cluster.apiKey(orgA), cluster.apiKey(orgB)]);
  });

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    await source?.close();
    await cluster.stop();
  });

  it('a receiver failing 3 times then succeeding gets the event once, signed per Standard Webhooks, Retry-After honoured', async () => {
    const hook = await receiver();
    const answers = [503, { status: 429, headers: { 'retry-after': '2' } }, 500, 200];
    hook.respond = ({ n }) => answers[Math.min(n, answers.length) - 1]!;
    const webhook = await createWebhook(cluster, keyA, {
      url: hook.url,
      eventTypes: ['session.status'],
    });
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const event = source.publish(source.event(orgA, newId()));
    await source.flush();

    await waitFor('delivered', () => Promise.resolve(hook.delivered.length > 0), 20_000);
    await sleep(1_000); // and nothing after it
    expect(hook.requests.map((r) => r.status)).toEqual([503, 429, 500, 200]);
    // One message: the same webhook-id on every attempt, delivered once.
    expect(new Set(webhookIds(hook.requests)).size).toBe(1);
    expect(hook.delivered).toHaveLength(1);
    // Not before the receiver's Retry-After (2 s).
    expect(hook.requests[2]!.at - hook.requests[1]!.at).toBeGreaterThanOrEqual(1_900);

    const verifier = new Webhook(webhook.secret);
    for (const request of hook.requests) {
      expect(verifier.verify(request.body, headersOf(request))).toEqual(JSON.parse(request.body));
      expect(request.headers['content-type']).toBe('application/json');
    }
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(
        hook.requests[0]!.body,
        headersOf(hook.requests[0]!),
      ),
    ).toThrow();
    // The body is the public event: no fence, no state.
    expect(JSON.parse(hook.delivered[0]!.body)).toEqual({
      id: event.id,
      type: event.type,
      organizationId: orgA,
      sessionId: event.sessionId,
      occurredAt: event.occurredAt,
      data: event.data,
    });

    const [delivery] = await deliveries(cluster, keyA, webhook.id);
    expect(delivery).toMatchObject({
      id: hook.requests[0]!.headers['webhook-id'],
      eventId: event.id,
      status: 'delivered',
      attempts: 4,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(delivery!.lastLatencyMs).toEqual(expect.any(Number));
    // It failed for a while, and is healthy again since the success.
    const got = await call(cluster.apis[0]!.baseUrl, 'GET', `/api/v1/webhooks/${webhook.id}`, {
      token: keyA,
    });
    expect(got.body).toMatchObject({ active: true, failingSince: null, disabledReason: null });
  });

  it('keeps the order of one session while its head is retried; other sessions are not held up; a 4xx is not retried', async () => {
    const hook = await receiver();
    const s1 = newId();
    const s2 = newId();
    const first = source.event(orgA, s1);
    let failuresLeft = 2;
    hook.respond = ({ body }) => {
      const { id } = JSON.parse(body) as { id: string };
      if (id === first.id && failuresLeft-- > 0) return 503;
      return 200;
    };
    const gone = await receiver();
    gone.respond = () => 410;
    await createWebhook(cluster, keyA, { url: hook.url, eventTypes: ['session.status'] });
    const goneHook = await createWebhook(cluster, keyA, {
      url: gone.url,
      eventTypes: ['session.status'],
      sessionId: null,
    });

    const ordered = [first, ...Array.from({ length: 4 }, () => source.event(orgA, s1))];
    const others = Array.from({ length: 3 }, () => source.event(orgA, s2));
    for (let i = 0; i < ordered.length; i++) {
      source.publish(ordered[i]!);
      if (others[i]) source.publish(others[i]!);
    }
    await source.flush();
    await waitFor('all delivered', () => Promise.resolve(hook.delivered.length === 8), 20_000);

    const delivered = hook.deliveredEvents();
    expect(delivered.filter((e) => e.sessionId === s1).map((e) => e.id)).toEqual(
      ordered.map((e) => e.id),
    );
    expect(delivered.filter((e) => e.sessionId === s2).map((e) => e.id)).toEqual(
      others.map((e) => e.id),
    );
    const at = (id: string) => hook.delivered.find((r) => r.body.includes(id))!.at;
    expect(at(others.at(-1)!.id)).toBeLessThan(at(first.id));

    // 410: one attempt each, then dead letters.
    await waitFor('dead letters', async () => {
      const failed = await deliveries(cluster, keyA, goneHook.id, '?status=failed');
      return failed.length === 8;
    });
    expect(gone.requests).toHaveLength(8);
    const failed = await deliveries(cluster, keyA, goneHook.id, '?status=failed&limit=3');
    expect(failed.map((d) => [d.attempts, d.lastStatusCode])).toEqual(Array(3).fill([1, 410]));
  });

  it('an API crash in the middle of the retries still delivers, and what was published meanwhile too', async () => {
    const hook = await receiver();
    let healthy = false;
    hook.respond = () => (healthy ? 200 : 503);
    await createWebhook(cluster, keyA, { url: hook.url, eventTypes: ['session.status'] });
    const before = source.publish(source.event(orgA, newId()));
    await source.flush();
    await waitFor('two failed attempts', () => Promise.resolve(hook.requests.length >= 2), 20_000);

    await cluster.apis[0]!.process.stop('SIGKILL');
    const during = source.publish(source.event(orgA, newId()));
    await source.flush();
    await sleep(500);
    healthy = true;
    await cluster.restart(0);

    await waitFor('both delivered', () => Promise.resolve(hook.delivered.length >= 2), 40_000);
    await sleep(1_000);
    expect(
      hook
        .deliveredEvents()
        .map((e) => e.id)
        .sort(),
    ).toEqual([before.id, during.id].sort());
    // Delivered once each (by webhook-id), whatever was retried.
    expect(new Set(webhookIds(hook.delivered)).size).toBe(2);
    expect(new Set(webhookIds(hook.requests)).size).toBe(2);
  }, 90_000);

  it('a receiver down past the retry budget yields a dead letter that redelivers on request', async () => {
    const hook = await receiver();
    let healthy = false;
    hook.respond = () => (healthy ? 204 : 500);
    const webhook = await createWebhook(cluster, keyA, {
      url: hook.url,
      eventTypes: ['session.status'],
    });
    const event = source.publish(source.event(orgA, newId()));
    await source.flush();
    await waitFor(
      'a dead letter',
      async () => (await deliveries(cluster, keyA, webhook.id, '?status=failed')).length === 1,
      30_000,
    );
    const [dead] = await deliveries(cluster, keyA, webhook.id, '?status=failed');
    expect(dead).toMatchObject({ eventId: event.id, attempts: 5, lastStatusCode: 500 });
    expect(hook.requests).toHaveLength(5);
    expect((await deliveries(cluster, keyA, webhook.id, '?status=pending')).length).toBe(0);

    healthy = true;
    const base = cluster.apis[0]!.baseUrl;
    const path = `/api/v1/webhooks/${webhook.id}/deliveries/${dead!.id}:redeliver`;
    const again = await call(base, 'POST', path, { token: keyA });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: dead!.id, status: 'pending', attempts: 0 });
    await waitFor('redelivered', () => Promise.resolve(hook.delivered.length === 1));
    expect(hook.delivered[0]!.headers['webhook-id']).toBe(dead!.id);
    await waitFor('recorded', async () => {
      const [d] = await deliveries(cluster, keyA, webhook.id);
      return d!.status === 'delivered';
    });
    // Another organization cannot see or touch it.
    expect((await call(base, 'POST', path, { token: keyB })).status).toBe(404);
    expect(
      (await call(base, 'GET', `/api/v1/webhooks/${webhook.id}/deliveries`, { token: keyB }))
        .status,
    ).toBe(404);
    const unknown = `/api/v1/webhooks/${webhook.id}/deliveries/${newId()}:redeliver`;
    expect((await call(base, 'POST', unknown, { token: keyA })).status).toBe(404);
  }, 60_000);

  it('another organization never receives an event that is not its own', async () => {
    const [hookA, hookB] = [await receiver(), await receiver()];
    await createWebhook(cluster, keyA, { url: hookA.url, eventTypes: ['session.status'] });
    await createWebhook(cluster, keyB, { url: hookB.url, eventTypes: ['session.status'] });
    const session = newId(); // the same session id in both organizations
    const a = Array.from({ length: 5 }, () => source.publish(source.event(orgA, session)).id);
    const b = Array.from({ length: 5 }, () => source.publish(source.event(orgB, session)).id);
    await source.flush();
    await waitFor('delivered', () =>
      Promise.resolve(hookA.delivered.length === 5 && hookB.delivered.length === 5),
    );
    await sleep(500);
    expect(hookA.deliveredEvents().map((e) => e.id)).toEqual(a);
    expect(hookB.deliveredEvents().map((e) => e.id)).toEqual(b);
    expect(hookA.deliveredEvents().every((e) => e.organizationId === orgA)).toBe(true);
    expect(hookB.deliveredEvents().every((e) => e.organizationId === orgB)).toBe(true);
  });

  it('rotating the secret: both secrets sign during the grace period, then only the new one', async () => {
    const hook = await receiver();
    const webhook = await createWebhook(cluster, keyA, {
      url: hook.url,
      eventTypes: ['session.status'],
    });
    const base = cluster.apis[0]!.baseUrl;
    const rotated = await call(base, 'POST', `/api/v1/webhooks/${webhook.id}:rotate-secret`, {
      token: keyA,
      body: { gracePeriodMs: 60_000 },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    expect(rotated.body.previousSecretExpiresAt).toBeGreaterThan(Date.now());
    source.publish(source.event(orgA, newId()));
    await source.flush();
    await waitFor('delivered', () => Promise.resolve(hook.delivered.length === 1));
    const during = hook.delivered[0]!;
    expect(during.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    for (const secret of [webhook.secret, rotated.body.secret as string])
      expect(() => new Webhook(secret).verify(during.body, headersOf(during))).not.toThrow();

    const now = await call(base, 'POST', `/api/v1/webhooks/${webhook.id}:rotate-secret`, {
      token: keyA,
      body: { gracePeriodMs: 0 },
    });
    source.publish(source.event(orgA, newId()));
    await source.flush();
    await waitFor('delivered', () => Promise.resolve(hook.delivered.length === 2));
    const after = hook.delivered[1]!;
    expect(() =>
      new Webhook(now.body.secret as string).verify(after.body, headersOf(after)),
    ).not.toThrow();
    expect(() =>
      new Webhook(rotated.body.secret as string).verify(after.body, headersOf(after)),
    ).toThrow();
    expect(
      JSON.stringify((await call(base, 'GET', '/api/v1/webhooks', { token: keyA })).body),
    ).not.toMatch(/whsec_/);
  });
});

describe('webhooks without private networks allowed (but 127.0.0.2), disabled when failing too long', () => {
  const cluster = new ApiCluster({
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '127.0.0.2/32',
    WEBHOOK_DISABLE_AFTER_MS: '1500',
    ...FAST_RETRIES,
  });
  let source: GatewayEventSource;
  const org = `org_wh_s_${newId().toLowerCase()}`;
  let key: string;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    await cluster.start(1);
    source = new GatewayEventSource(cluster.prefix);
    key = await cluster.apiKey(org);
  });

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    await source?.close();
    await cluster.stop();
  });

  it('a loopback receiver is refused (400), by address or by a name resolving to it; an allowed address is not', async () => {
    const loopback = await new WebhookReceiver().start('127.0.0.1');
    const allowed = await new WebhookReceiver().start('127.0.0.2');
    receivers.push(loopback, allowed);
    const base = cluster.apis[0]!.baseUrl;
    const port = new URL(loopback.url).port;
    for (const url of [
      loopback.url,
      `http://localhost:${port}/hook`,
      `http://[::1]:${port}/hook`,
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.1/hook',
    ]) {
      const res = await call(base, 'POST', '/api/v1/webhooks', {
        token: key,
        body: { url, eventTypes: ['session.status'] },
      });
      expect([url, res.status, res.body.error?.code]).toEqual([url, 400, 'validation_error']);
      expect(res.body.error.details.fields.url).toEqual([expect.stringContaining('refused')]);
    }
    const ok = await createWebhook(cluster, key, {
      url: allowed.url,
      eventTypes: ['session.status'],
    });
    const patched = await call(base, 'PATCH', `/api/v1/webhooks/${ok.id}`, {
      token: key,
      body: { url: loopback.url },
    });
    expect(patched.status).toBe(400);
    source.publish(source.event(org, newId()));
    await source.flush();
    await waitFor('delivered', () => Promise.resolve(allowed.delivered.length === 1));
    expect(loopback.requests).toEqual([]);
    await call(base, 'DELETE', `/api/v1/webhooks/${ok.id}`, { token: key });
  });

  it('a webhook failing longer than WEBHOOK_DISABLE_AFTER_MS is disabled, with a webhook.disabled event', async () => {
    const failing = await new WebhookReceiver().start('127.0.0.2');
    const watcher = await new WebhookReceiver().start('127.0.0.2');
    receivers.push(failing, watcher);
    failing.respond = () => 503;
    const bad = await createWebhook(cluster, key, {
      url: failing.url,
      eventTypes: ['session.status'],
    });
    await createWebhook(cluster, key, { url: watcher.url, eventTypes: ['webhook.disabled'] });
    const sse = new SseRecorder(
      `${cluster.apis[0]!.baseUrl}/api/v1/events?types=webhook.disabled`,
      key,
    );
    try {
      await sse.waitForOpen();
      const session = newId();
      for (let i = 0; i < 10 && watcher.delivered.length === 0; i++) {
        source.publish(source.event(org, session));
        await source.flush();
        await sleep(500);
      }
      await waitFor('webhook.disabled delivered', () =>
        Promise.resolve(watcher.delivered.length === 1 && sse.events.length === 1),
      );
      const got = await call(cluster.apis[0]!.baseUrl, 'GET', `/api/v1/webhooks/${bad.id}`, {
        token: key,
      });
      expect(got.body).toMatchObject({ active: false, disabledReason: 'failing' });
      const announced = JSON.parse(watcher.delivered[0]!.body);
      expect(announced).toMatchObject({
        type: 'webhook.disabled',
        organizationId: org,
        sessionId: null,
        data: { webhookId: bad.id, url: failing.url, reason: 'failing' },
      });
      expect(sse.events[0]!.event).toEqual(announced);
      // Disabled: no more attempts.
      const attempts = failing.requests.length;
      source.publish(source.event(org, session));
      await source.flush();
      await sleep(1_000);
      expect(failing.requests.length).toBe(attempts);

      // Switched back on: the failure record is cleared and deliveries resume.
      failing.respond = () => 200;
      const on = await call(cluster.apis[0]!.baseUrl, 'PATCH', `/api/v1/webhooks/${bad.id}`, {
        token: key,
        body: { active: true },
      });
      expect(on.body).toMatchObject({ active: true, disabledReason: null, failingSince: null });
      await waitFor('resumed', () => Promise.resolve(failing.delivered.length > 0));
    } finally {
      sse.close();
    }
  });
});
