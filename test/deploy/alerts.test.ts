import { describe, expect, it } from '@jest/globals';
import { GatewayMetrics } from '@wagw/gateway';
import type { DataSource } from 'typeorm';
import { MetricsService } from '../../apps/api/src/ops/metrics.service.js';
import { SessionStatusMetrics } from '../../apps/api/src/ops/session-status.metrics.js';
import {
  alertRules,
  dashboardExpressions,
  metricNamesOf,
  readmeMetrics,
  sampleNames,
} from './promql.js';

/**
 * What the processes register (names and types, read from their registries without serving
 * them); test/e2e/observability.e2e.ts checks the same names on the real processes' /metrics.
 */
async function registeredNames(): Promise<Set<string>> {
  const api = new MetricsService();
  // Registers the gauge only; its collect() (a database read) runs at scrape time, never here.
  new SessionStatusMetrics({} as DataSource, api).onModuleInit();
  const gateway = new GatewayMetrics();
  const names = new Set<string>();
  for (const registry of [api.registry, gateway.registry])
    for (const metric of await registry.getMetricsAsJSON())
      for (const n of sampleNames(metric.name, String(metric.type))) names.add(n);
  return names;
}

describe('deploy/prometheus/alerts.yaml', () => {
  const rules = alertRules();

  it('has the alerts operations need, each with a severity and a summary', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'WagwLeasesLost',
        'WagwSessionsFailed',
        'WagwEventConsumerLag',
        'WagwWebhookDeadLetters',
        'WagwGatewayCapacityNearFull',
      ]),
    );
    for (const rule of rules) {
      expect([rule.alert, rule.labels?.severity]).toEqual([
        rule.alert,
        expect.stringMatching(/^(info|warning|critical)$/),
      ]);
      expect(rule.annotations?.summary).toBeTruthy();
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('parses every expression and uses only metrics the processes register', async () => {
    const registered = await registeredNames();
    for (const rule of rules) {
      const names = metricNamesOf(rule.expr);
      expect([rule.alert, names.length > 0]).toEqual([rule.alert, true]);
      for (const name of names)
        expect(`${rule.alert}: ${name} registered: ${registered.has(name)}`).toBe(
          `${rule.alert}: ${name} registered: true`,
        );
    }
  });
});

describe('deploy/grafana/wagw-dashboard.json', () => {
  it('parses every panel query and uses only registered metrics', async () => {
    const registered = await registeredNames();
    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThan(10);
    for (const expr of expressions)
      for (const name of metricNamesOf(expr))
        expect(`${name} registered: ${registered.has(name)}`).toBe(`${name} registered: true`);
  });
});

describe('the README metrics table', () => {
  it('names what the registries hold, and the checks catch what they are meant to', async () => {
    const registered = await registeredNames();
    const table = readmeMetrics();
    expect(table.length).toBeGreaterThan(15);
    for (const { name } of table)
      expect(`${name}: ${registered.has(name) || registered.has(`${name}_count`)}`).toBe(
        `${name}: true`,
      );
    expect(() => metricNamesOf('sum(rate(gateway_claims_total[5m]) by')).toThrow(/syntax/);
    expect(metricNamesOf('sum(rate(a_total[5m])) / on() max(b{x="y"})')).toEqual(['a_total', 'b']);
  });
});
