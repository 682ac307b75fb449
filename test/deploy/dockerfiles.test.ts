import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { parseYamlDocuments, REPO_ROOT } from './kustomize.js';

const DOCKER_DIR = resolve(REPO_ROOT, 'deploy/docker');
const IMAGES = {
  api: { entry: 'apps/api/dist/main.js', port: 8080, portEnv: 'PORT', health: '/healthz' },
  gateway: {
    entry: 'apps/gateway/dist/main.js',
    port: 9090,
    portEnv: 'GATEWAY_OPS_PORT',
    health: '/healthz',
  },
  'wa-sim': {
    entry: 'apps/wa-sim/dist/main.js',
    port: 8090,
    portEnv: 'WA_SIM_PORT',
    health: '/sim/v1/healthz',
  },
} as const;

const args = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
const fromAnotherStage = (i: Instruction): boolean =>
  (i as unknown as { getFlags(): { getName(): string }[] })
    .getFlags()
    .some((f) => f.getName() === 'from');

/** The rules a Dockerfile of this repository must follow, beyond being valid. */
export function lintDockerfile(text: string): string[] {
  const problems = validate(text).map(
    (d) =>
      `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
  );
  const dockerfile = DockerfileParser.parse(text);
  const froms = dockerfile.getFROMs();
  if (froms.length < 2) problems.push('not multi-stage: build and runtime stages expected');
  const argDefaults = new Map(
    dockerfile.getInitialARGs().map((i) => (args(i)[0] ?? '').split('=') as [string, string]),
  );
  for (const from of froms) {
    const image = from.getImageName()?.startsWith('$')
      ? (argDefaults.get(from.getImageName()!.replace(/^\$\{?|\}$/g, '')) ?? '')
      : `${from.getImageName()}:${from.getImageTag() ?? ''}`;
    if (!/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*$/.test(image))
      problems.push(`base image not pinned to an exact version: ${image || from.getImageName()}`);
  }
  const instructions = dockerfile.getInstructions();
  const lastFromLine = froms[froms.length - 1]?.getRange().start.line ?? 0;
  const runtime = instructions.filter((i) => i.getRange().start.line > lastFromLine);
  const user = runtime.filter((i) => i.getKeyword() === 'USER').pop();
  if (!user || ['root', '0'].includes(args(user)[0]?.split(':')[0] ?? 'root'))
    problems.push('the runtime stage must switch to a non-root USER');
  if (!runtime.some((i) => i.getKeyword() === 'HEALTHCHECK')) problems.push('no HEALTHCHECK');
  for (const i of runtime.filter((x) => x.getKeyword() === 'RUN'))
    if (/npm (ci|install)/.test(i.getArgumentsContent() ?? ''))
      problems.push(`line ${i.getRange().start.line + 1}: the runtime stage installs packages`);
  for (const i of instructions) {
    const content = i.getArgumentsContent() ?? '';
    const line = i.getRange().start.line + 1;
    if (i.getKeyword() === 'ADD') problems.push(`line ${line}: ADD (use COPY)`);
    if (i.getKeyword() === 'RUN' && /npm install/.test(content))
      problems.push(`line ${line}: npm install (use npm ci, the lockfile's versions)`);
    if (
      i.getKeyword() === 'RUN' &&
      /apt-get install/.test(content) &&
      !/--no-install-recommends/.test(content)
    )
      problems.push(`line ${line}: apt-get install without --no-install-recommends`);
    if (['CMD', 'ENTRYPOINT'].includes(i.getKeyword()) && !content.trim().startsWith('['))
      problems.push(`line ${line}: ${i.getKeyword()} in shell form (signals would not reach node)`);
    if (i.getKeyword() === 'WORKDIR' && !content.startsWith('/'))
      problems.push(`line ${line}: relative WORKDIR`);
    if (i.getKeyword() === 'COPY' && !fromAnotherStage(i)) {
      const sources = args(i)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1);
      for (const source of sources)
        if (!existsSync(resolve(REPO_ROOT, source)))
          problems.push(`line ${line}: COPY source ${source} does not exist`);
    }
  }
  const build = instructions.filter((i) => i.getRange().start.line < lastFromLine);
  if (
    !build.some((i) =>
      /npm prune --omit=dev|npm ci[^&]*--omit=dev/.test(i.getArgumentsContent() ?? ''),
    )
  )
    problems.push('development dependencies are not pruned before the runtime stage');
  return problems;
}

describe.each(Object.entries(IMAGES))('deploy/docker/%s.Dockerfile', (name, image) => {
  const text = readFileSync(resolve(DOCKER_DIR, `${name}.Dockerfile`), 'utf8');
  const dockerfile = DockerfileParser.parse(text);

  it('lints clean', () => {
    expect(lintDockerfile(text)).toEqual([]);
  });

  it('runs the app it is named for, probes its health endpoint on its port', () => {
    const keyword = (k: string): Instruction[] =>
      dockerfile.getInstructions().filter((i) => i.getKeyword() === k);
    expect(JSON.parse(keyword('CMD')[0]!.getArgumentsContent()!)).toEqual(['node', image.entry]);
    expect(
      existsSync(
        resolve(REPO_ROOT, image.entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts')),
      ),
    ).toBe(true);
    expect(args(keyword('EXPOSE')[0]!)).toEqual([String(image.port)]);
    const health = keyword('HEALTHCHECK')[0]!.getArgumentsContent()!;
    expect(health).toContain(`process.env.${image.portEnv}||${image.port}`);
    expect(health).toContain(`'${image.health}'`);
  });
});

describe('the Dockerfile lint', () => {
  it('finds what it is meant to find', () => {
    const bad = [
      'FROM node:latest',
      'WORKDIR app',
      'ADD . .',
      'RUN npm install',
      'COPY no/such/file ./',
      'CMD node main.js',
    ].join('\n');
    const problems = lintDockerfile(bad).join('\n');
    for (const expected of [
      'not multi-stage',
      'not pinned',
      'non-root USER',
      'HEALTHCHECK',
      'ADD (use COPY)',
      'npm install',
      'COPY source no/such/file does not exist',
      'shell form',
      'relative WORKDIR',
      'not pruned',
    ])
      expect(problems).toContain(expected);
  });
});

describe('deploy/docker/compose.yaml', () => {
  const [compose] = parseYamlDocuments(
    readFileSync(resolve(DOCKER_DIR, 'compose.yaml'), 'utf8'),
    'compose.yaml',
  ) as [{ services: Record<string, any>; volumes: Record<string, unknown> }];
  const { services } = compose;

  it('runs Postgres, NATS with auth, migrations, API ×2, gateway ×3 and wa-sim', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'gateway', 'migrate', 'nats', 'postgres', 'wa-sim'].sort(),
    );
    expect(services.api.deploy.replicas).toBe(2);
    expect(services.gateway.deploy.replicas).toBe(3);
    expect(services.nats.command).toContain('/etc/nats/nats-server.conf');
    // The repository's NATS configuration (JetStream on, one user per role) is mounted.
    for (const file of ['nats-server.conf', 'wagw-accounts.conf']) {
      const mount = services.nats.volumes.find((v: string) => v.includes(file));
      expect(existsSync(resolve(DOCKER_DIR, mount.split(':')[0]))).toBe(true);
    }
    expect(services.api.environment.NATS_URL).toMatch(/^nats:\/\/api:/);
    expect(services.gateway.environment.NATS_URL).toMatch(/^nats:\/\/gateway:/);
  });

  it('builds from Dockerfiles that exist and starts the fleet after the migrations', () => {
    for (const service of Object.values(services).filter((s) => s.build)) {
      expect(existsSync(resolve(DOCKER_DIR, service.build.context, service.build.dockerfile))).toBe(
        true,
      );
    }
    for (const name of ['api', 'gateway'])
      expect(services[name].depends_on.migrate.condition).toBe('service_completed_successfully');
    // Longer than a drain (sessions handed over before exit).
    expect(Number.parseInt(services.gateway.stop_grace_period, 10)).toBeGreaterThan(20);
  });
});
