import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parseYamlDocuments, REPO_ROOT } from './kustomize.js';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The alert rules of deploy/prometheus/alerts.yaml. */
export function alertRules(): AlertRule[] {
  const [file] = parseYamlDocuments(
    readFileSync(resolve(REPO_ROOT, 'deploy/prometheus/alerts.yaml'), 'utf8'),
    'alerts.yaml',
  ) as [{ groups: { name: string; rules: AlertRule[] }[] }];
  return file.groups.flatMap((g) => g.rules);
}

/** Every PromQL expression of the Grafana dashboard. */
export function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(
    readFileSync(resolve(REPO_ROOT, 'deploy/grafana/wagw-dashboard.json'), 'utf8'),
  ) as { panels: { title: string; targets: { expr: string }[] }[] };
  return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

/**
 * Parses one PromQL expression; throws on a syntax error. Returns the metric names it selects
 * (vector selectors, inside functions and aggregations too).
 */
export function metricNamesOf(expr: string): string[] {
  const tree = parser.parse(expr);
  const names: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL syntax error at ${cursor.from}: ${expr}`);
    if (cursor.type.name === 'VectorSelector') {
      const selector = cursor.node.getChild('Identifier');
      if (selector) names.push(expr.slice(selector.from, selector.to));
    }
  } while (cursor.next());
  return names;
}

/** The metric names of the README's "Metrics" table, with the process that serves each. */
export function readmeMetrics(): { name: string; process: 'API' | 'gateway' }[] {
  const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Metrics\n')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` +\| (API|gateway) +\|/gm)].map((m) => ({
    name: m[1]!,
    process: m[2] as 'API' | 'gateway',
  }));
}

/** Sample names a metric of this type shows in the exposition format. */
export function sampleNames(name: string, type: string): string[] {
  return type === 'histogram'
    ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
    : type === 'summary'
      ? [name, `${name}_sum`, `${name}_count`]
      : [name];
}

/** Every sample name a Prometheus text exposition declares (# TYPE lines). */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm))
    for (const n of sampleNames(m[1]!, m[2]!)) names.add(n);
  return names;
}
