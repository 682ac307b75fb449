import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { GATEWAY_SHUTDOWN_TIMEOUT_MS, GatewayConfig } from '@wagw/gateway';
import { ApiConfig } from '../../apps/api/src/config/api-config.js';
import { WA_SIM_ENV } from '../../apps/wa-sim/src/wa-sim.config.js';
import {
  K8S_DIR,
  type K8sObject,
  parseYamlDocuments,
  REPO_ROOT,
  renderOverlay,
  validateObject,
} from './kustomize.js';

const OVERLAYS = { dev: 'wagw-dev', production: 'wagw' } as const;
const CLUSTER_SCOPED = new Set(['Namespace']);
const WORKLOADS = new Set(['Deployment', 'Job']);

const apiKeys = new Set(Object.keys(new ApiConfig()));
const gatewayKeys = new Set(Object.keys(new GatewayConfig()));

const podSpecOf = (o: K8sObject): any => o.spec.template.spec;
const byKind = (objects: K8sObject[], kind: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind} ${name} is not rendered`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Secrets production expects from outside (secrets.example.yaml shows their keys). */
const externalSecrets = parseYamlDocuments(
  readFileSync(resolve(K8S_DIR, 'overlays/production/secrets.example.yaml'), 'utf8'),
  'secrets.example.yaml',
) as K8sObject[];

describe.each(Object.entries(OVERLAYS))('Kustomize overlay %s', (overlay, namespace) => {
  const objects = renderOverlay(overlay);
  const configMaps = byKind(objects, 'ConfigMap');
  const secrets = overlay === 'production' ? externalSecrets : byKind(objects, 'Secret');
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind));

  it('renders every object the base promises', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const expected of [
      'Deployment/wagw-api',
      'Service/wagw-api',
      'HorizontalPodAutoscaler/wagw-api',
      'PodDisruptionBudget/wagw-api',
      'Deployment/wagw-gateway',
      'PodDisruptionBudget/wagw-gateway',
      'HorizontalPodAutoscaler/wagw-gateway',
      'Job/wagw-migrate',
      'ConfigMap/wagw-config',
      'NetworkPolicy/wagw-default-deny',
    ])
      expect(kinds).toContain(expected);
    if (overlay === 'production') expect(byKind(objects, 'Secret')).toEqual([]);
  });

  it('validates every rendered object against the Kubernetes schemas', async () => {
    const failures: string[] = [];
    for (const object of objects) {
      try {
        await validateObject(object);
      } catch (error) {
        failures.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('puts every namespaced object in the overlay namespace', () => {
    for (const o of objects.filter((x) => !CLUSTER_SCOPED.has(x.kind)))
      expect(`${o.kind}/${o.metadata.name}: ${o.metadata.namespace}`).toBe(
        `${o.kind}/${o.metadata.name}: ${namespace}`,
      );
  });

  it('runs every container non-root, read-only, without capabilities or a service account token', () => {
    for (const w of workloads) {
      const pod = podSpecOf(w);
      expect([w.metadata.name, pod.automountServiceAccountToken]).toEqual([w.metadata.name, false]);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect([c.name, c.securityContext]).toEqual([
          c.name,
          expect.objectContaining({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          }),
        ]);
        expect(c.resources.requests.memory).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
        expect(c.image).toMatch(/^[\w./-]+:[\w.-]+$/);
      }
    }
  });

  it('selects its own pods: Deployments, Services, PDBs, HPAs and NetworkPolicies', () => {
    const pods = workloads.map((w) => w.spec.template.metadata.labels);
    for (const d of byKind(objects, 'Deployment'))
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    for (const s of byKind(objects, 'Service'))
      expect([s.metadata.name, pods.some((l) => matches(s.spec.selector, l))]).toEqual([
        s.metadata.name,
        true,
      ]);
    for (const p of [
      ...byKind(objects, 'PodDisruptionBudget'),
      ...byKind(objects, 'NetworkPolicy'),
    ])
      expect([
        p.metadata.name,
        pods.some((l) =>
          matches(p.spec.podSelector?.matchLabels ?? p.spec.selector?.matchLabels ?? {}, l),
        ),
      ]).toEqual([p.metadata.name, true]);
    for (const h of byKind(objects, 'HorizontalPodAutoscaler'))
      named(objects, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name);
    // Every workload is covered by a policy beyond the default deny.
    for (const w of workloads)
      expect([
        w.metadata.name,
        byKind(objects, 'NetworkPolicy').some(
          (p) =>
            Object.keys(p.spec.podSelector).length > 0 &&
            matches(p.spec.podSelector.matchLabels ?? {}, w.spec.template.metadata.labels),
        ),
      ]).toEqual([w.metadata.name, true]);
  });

  it('configures every process only with variables it knows, from objects that exist', () => {
    const allowed: Record<string, Set<string>> = {
      'wagw-api': apiKeys,
      'wagw-gateway': gatewayKeys,
      'wagw-migrate': apiKeys,
      'wa-sim': new Set<string>(WA_SIM_ENV),
    };
    const dataOf = (o: K8sObject): string[] => Object.keys({ ...o.data, ...o.stringData });
    for (const w of workloads) {
      const known = allowed[w.metadata.name] ?? new Set<string>();
      for (const c of podSpecOf(w).containers) {
        for (const source of c.envFrom ?? []) {
          const ref = source.configMapRef ?? source.secretRef;
          const pool = source.configMapRef ? configMaps : secrets;
          const target = pool.find((o) => o.metadata.name === ref.name);
          expect([w.metadata.name, ref.name, target !== undefined]).toEqual([
            w.metadata.name,
            ref.name,
            true,
          ]);
          for (const key of dataOf(target!))
            expect(`${w.metadata.name} ${ref.name} ${key} known: ${known.has(key)}`).toBe(
              `${w.metadata.name} ${ref.name} ${key} known: true`,
            );
        }
        for (const env of c.env ?? []) expect(known.has(env.name)).toBe(true);
      }
    }
  });

  it('gives each gateway its pod name, a drain before stop and a grace period longer than a drain', () => {
    const gateway = named(objects, 'Deployment', 'wagw-gateway');
    const pod = podSpecOf(gateway);
    const [container] = pod.containers;
    expect(container.env).toContainEqual({
      name: 'GATEWAY_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    const opsPort = Number(
      configMaps.find((c) => c.metadata.name === 'wagw-gateway-config')!.data!.GATEWAY_OPS_PORT,
    );
    expect(container.ports).toContainEqual({ name: 'ops', containerPort: opsPort });
    const preStop = container.lifecycle.preStop.exec.command.join(' ');
    expect(preStop).toContain(`http://127.0.0.1:${opsPort}/drain`);
    expect(preStop).toContain("method:'POST'");
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(GATEWAY_SHUTDOWN_TIMEOUT_MS);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
    expect(gateway.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(named(objects, 'PodDisruptionBudget', 'wagw-gateway').spec.maxUnavailable).toBe(1);
  });

  it('scales gateways on the sessions each pod holds, a metric the gateway serves', () => {
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'wagw-gateway');
    const [metric] = hpa.spec.metrics;
    expect(metric.type).toBe('Pods');
    expect(metric.pods.metric.name).toBe('gateway_sessions_held');
    const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/\| `gateway_sessions_held` +\| gateway /);
    const capacity = Number(
      configMaps.find((c) => c.metadata.name === 'wagw-gateway-config')!.data!.GATEWAY_CAPACITY,
    );
    expect(Number(metric.pods.target.averageValue)).toBeLessThan(capacity);
  });

  it('gives the API time to finish requests after its endpoints are gone', () => {
    const pod = podSpecOf(named(objects, 'Deployment', 'wagw-api'));
    // preStop sleep (5 s) + the API's own shutdown timeout (20 s) must fit in the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(25);
    expect(pod.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
  });
});

describe('the schema check itself', () => {
  it('refuses an object of the wrong shape and an unknown kind', async () => {
    const deployment: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken' },
      spec: {
        replicas: 'three',
        selector: { matchLabels: { a: 'b' } },
        template: { spec: { containers: [{ name: 'a', image: 'b' }] } },
      },
    };
    await expect(validateObject(deployment)).rejects.toThrow(/replicas/);
    await expect(
      validateObject({ apiVersion: 'apps/v1', kind: 'Deplyment', metadata: { name: 'x' } }),
    ).rejects.toThrow();
  });
});
