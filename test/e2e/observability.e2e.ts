import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { call } from '../support/api-process.js';
import { Fleet, type PairedSession, pairSessions } from '../support/fleet.js';
import { metricsText, sample } from '../support/metrics.js';
import { waitFor } from '../support/processes.js';
import {
  alertRules,
  dashboardExpressions,
  exposedNames,
  metricNamesOf,
  readmeMetrics,
} from '../deploy/promql.js';

/** JSON log lines of a process that carry `key: value`. */
function logLinesWith(output: string, key: string, value: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((line) => line[key] === value);
}

describe('observability: metrics, correlation ids, drain (API + 2 gateways + wa-sim)', () => {
  const fleet = new Fleet({
    apiEnv: { LOG_LEVEL: 'info', ORG_MAX_SESSIONS: '2' },
    gatewayEnv: { LOG_LEVEL: 'info' },
  });
  let key: string;
  let session: PairedSession;

  beforeAll(async () => {
    // One at a time: gateways booting at once on a busy two-core machine can take long.
    await fleet.start(['gw-a']);
    await fleet.startGateway('gw-b');
    key = await fleet.apiKey('org_observability');
    [session] = (await pairSessions(fleet, key, ['6281300000001'])) as [PairedSession];
  });
  afterAll(() => fleet.stop());

  it('serves every metric of the README table on the process the table names', async () => {
    const api = exposedNames(await metricsText(fleet.api.baseUrl));
    const gateway = exposedNames(await metricsText(fleet.gateways.get('gw-a')!.opsUrl));
    const table = readmeMetrics();
    expect(table.length).toBeGreaterThan(15);
    const missing = table
      .filter(({ name, process }) => {
        const names = process === 'API' ? api : gateway;
        return !names.has(name) && !names.has(`${name}_count`);
      })
      .map((m) => `${m.process} ${m.name}`);
    expect(missing).toEqual([]);
  });

  it('uses in alert rules and the dashboard only metrics the processes serve', async () => {
    const served = new Set([
      ...exposedNames(await metricsText(fleet.api.baseUrl)),
      ...exposedNames(await metricsText(fleet.gateways.get('gw-b')!.opsUrl)),
    ]);
    const used = [
      ...alertRules().flatMap((r) => metricNamesOf(r.expr)),
      ...dashboardExpressions().flatMap(metricNamesOf),
    ];
    expect(used.length).toBeGreaterThan(20);
    expect([...new Set(used)].filter((n) => !served.has(n))).toEqual([]);
  });

  it('counts what happened: sessions by status, leases, commands, consumer lag, capacity', async () => {
    const holder = fleet.gateways.get(session.gatewayId)!;
    await waitFor('a renewal', async () => {
      const g = await metricsText(holder.opsUrl);
      return (sample(g, 'gateway_leases_renewed_total') ?? 0) >= 1;
    });
    const g = await metricsText(holder.opsUrl);
    expect(sample(g, 'gateway_capacity')).toBe(1000);
    expect(sample(g, 'gateway_sessions_held')).toBe(1);
    expect(sample(g, 'gateway_claims_total')).toBeGreaterThanOrEqual(1);
    expect(sample(g, 'gateway_session_status_total{status="working"}')).toBeGreaterThanOrEqual(1);
    expect(sample(g, 'gateway_draining')).toBe(0);
    const a = await metricsText(fleet.api.baseUrl);
    expect(sample(a, 'sessions_by_status{status="working"}')).toBe(1);
    expect(sample(a, 'sessions_by_status{status="failed"}')).toBe(0);
    expect(
      sample(a, 'command_duration_seconds_count{command="session.claim",outcome="replied"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(a, 'event_consumer_lag_seconds_count{durable="api-session-fold"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts quota refusals as rate-limit rejections', async () => {
    // ORG_MAX_SESSIONS=2: the organization has one session; the third create is refused.
    expect(
      (await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', { token: key, body: {} })).status,
    ).toBe(201);
    const refused = await call(fleet.api.baseUrl, 'POST', '/api/v1/sessions', {
      token: key,
      body: {},
    });
    expect(refused.status).toBe(429);
    const a = await metricsText(fleet.api.baseUrl);
    expect(sample(a, 'rate_limit_rejections_total{route="/api/v1/sessions"}')).toBe(1);
  });

  it('carries one correlation id from the HTTP request through NATS to the gateway log', async () => {
    const requestId = `corr-${randomBytes(6).toString('hex')}`;
    const holder = fleet.gateways.get(session.gatewayId)!;
    const restarted = await call(
      fleet.api.baseUrl,
      'POST',
      `/api/v1/sessions/${session.id}:restart`,
      {
        token: key,
        headers: { 'x-request-id': requestId },
      },
    );
    expect(restarted.status).toBe(200);
    expect(restarted.headers.get('x-request-id')).toBe(requestId);
    const [gatewayLine] = await waitFor('the gateway logs the request id', () => {
      const lines = logLinesWith(holder.process.output(), 'requestId', requestId);
      return Promise.resolve(lines.length > 0 ? lines : null);
    });
    expect(gatewayLine).toMatchObject({ name: 'gateway', command: 'session.restart', requestId });
    // The API's access log line of that request (written asynchronously).
    await waitFor('the API logs the request id', () =>
      Promise.resolve(logLinesWith(fleet.api.process.output(), 'reqId', requestId).length > 0),
    );
    // The other gateway never saw it (an owner command goes to the holder's own subject).
    const other = [...fleet.gateways.values()].find((g) => g.id !== holder.id)!;
    expect(logLinesWith(other.process.output(), 'requestId', requestId)).toEqual([]);
    // The restart closed the connection itself (499) and it came back.
    await waitFor('working again', async () => {
      const res = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${session.id}`, {
        token: key,
      });
      return res.body.status === 'working';
    });
    const g = await metricsText(holder.opsUrl);
    expect(sample(g, 'gateway_wa_disconnects_total{code="499"}')).toBeGreaterThanOrEqual(1);
  });

  it('drains on POST /drain from loopback: sessions move to the peer, readiness turns false', async () => {
    const holder = fleet.gateways.get(session.gatewayId)!;
    const peer = [...fleet.gateways.values()].find((g) => g.id !== holder.id)!;
    const res = await fetch(`${holder.opsUrl}/drain`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'drained', result: { released: 1 } });
    const ready = await fetch(`${holder.opsUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).error.details.checks.draining).toBe('failing');
    expect(sample(await metricsText(holder.opsUrl), 'gateway_draining')).toBe(1);
    await waitFor('working on the peer', async () => {
      const s = await call(fleet.api.baseUrl, 'GET', `/api/v1/sessions/${session.id}`, {
        token: key,
      });
      return s.body.status === 'working' && s.body.gatewayId === peer.id;
    });
    expect((await fleet.sim.control.connections()).evictions).toEqual([]);
    // Only POST, only /drain.
    expect((await fetch(`${holder.opsUrl}/drain`)).status).toBe(404);
  });
});
