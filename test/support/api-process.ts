import { freePort, type RunningProcess, runNode, runToCompletion, waitFor } from './processes.js';

export interface ApiProcess {
  baseUrl: string;
  env: Record<string, string>;
  process: RunningProcess;
  stop(): Promise<number | null>;
}

/** Starts the built API (`apps/api/dist/main.js`) as a process and waits until it is ready. */
/**
 * `args: ['--embedded-gateway']` is what `npm start` runs: API + gateway in one process (+ wa-sim
 * with `WA_NETWORK=sandbox`, as `npm run start:sandbox`).
 */
export async function startApiProcess(
  env: Record<string, string>,
  args: string[] = [],
  readyTimeoutMs = 30_000,
): Promise<ApiProcess> {
  // A given PORT is kept (a restart on the same address, as a client reconnecting sees it).
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const fullEnv = { HOST: '127.0.0.1', ...env, PORT: String(port) };
  const proc = runNode('apps/api/dist/main.js', fullEnv, args);
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'API ready',
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`API exited with ${proc.child.exitCode}`);
        return (await fetch(`${baseUrl}/readyz`)).ok;
      },
      readyTimeoutMs,
    );
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${proc.output()}`, { cause: error });
  }
  return { baseUrl, env: fullEnv, process: proc, stop: () => proc.stop() };
}

export async function migrate(databaseUrl: string): Promise<void> {
  await runToCompletion('apps/api/dist/migrate.js', { DATABASE_URL: databaseUrl });
}

export interface CliApiKey {
  id: string;
  secret: string;
  organizationId: string;
  capabilities: string[];
}

export async function cliCreateApiKey(
  env: Record<string, string>,
  org: string,
  capabilities = 'manage,send',
  extra: string[] = [],
): Promise<CliApiKey> {
  const out = await runToCompletion('apps/api/dist/cli.js', env, [
    'api-keys',
    'create',
    '--org',
    org,
    '--name',
    `key-${org}`,
    '--capabilities',
    capabilities,
    ...extra,
  ]);
  return JSON.parse(out.trim().split('\n').pop()!) as CliApiKey;
}

/** fetch with a bearer token and a JSON body; returns status, parsed body and headers. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
