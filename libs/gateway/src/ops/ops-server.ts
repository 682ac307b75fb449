import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface OpsActions {
  /** `POST /drain`: hand every session over; resolves with what was released. */
  drain?: () => Promise<unknown>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * `/healthz`, `/readyz` and `/metrics` of a process that has no HTTP API of its own, and
 * `POST /drain` (a Kubernetes preStop hook) from the loopback interface only.
 */
export class OpsServer {
  private server: Server | null = null;

  constructor(
    private readonly registry: Registry,
    private readonly checks: readonly ReadinessCheck[],
    private readonly actions: OpsActions = {},
  ) {}

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    this.server = createServer((req, res) => {
      const send = (
        status: number,
        body: unknown,
        type = 'application/json; charset=utf-8',
      ): void => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'POST' && path === '/drain' && this.actions.drain) {
        if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
          return send(403, {
            error: {
              code: 'forbidden',
              message: 'drain is allowed from loopback only',
              details: {},
            },
          });
        void this.actions.drain().then(
          (result) => send(200, { status: 'drained', result }),
          (error: unknown) =>
            send(500, {
              error: { code: 'internal', message: `drain failed: ${String(error)}`, details: {} },
            }),
        );
        return;
      }
      if (req.method !== 'GET')
        return send(404, { error: { code: 'not_found', message: 'route not found', details: {} } });
      if (path === '/healthz') return send(200, { status: 'ok' });
      if (path === '/metrics') {
        void this.registry.metrics().then((text) => send(200, text, this.registry.contentType));
        return;
      }
      if (path === '/readyz') {
        void this.readiness().then((checks) => {
          const failed = Object.entries(checks).filter(([, ok]) => ok !== 'ok');
          if (failed.length === 0) return send(200, { status: 'ok', checks });
          send(503, {
            error: {
              code: 'unavailable',
              message: `not ready: ${failed.map(([n]) => n).join(', ')}`,
              details: { checks },
            },
          });
        });
        return;
      }
      send(404, { error: { code: 'not_found', message: 'route not found', details: {} } });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    return (this.server.address() as AddressInfo).port;
  }

  private async readiness(): Promise<Record<string, 'ok' | 'failing'>> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        const ok = await Promise.race([
          c.check().catch(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(false), 2_000)),
        ]);
        return [c.name, ok ? 'ok' : 'failing'] as const;
      }),
    );
    return Object.fromEntries(results);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
