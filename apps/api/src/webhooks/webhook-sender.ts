import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { AttemptResult } from './webhook-retry.policy.js';
import { parseRetryAfter } from './webhook-retry.policy.js';
import { type NetworkPolicy, RefusedAddressError } from './network-policy.js';

export interface WebhookSenderOptions {
  timeoutMs: number;
  maxResponseBytes: number;
}

/**
 * POSTs deliveries. The network policy is enforced on the address actually connected to:
 * host names resolve through the policy's `lookup` (refused addresses dropped before the
 * socket picks one), IP literals are checked before connecting, and every new socket is
 * checked again once connected. One deadline covers connect, send and response; at most
 * `maxResponseBytes` of the response are read; redirects are never followed (Node's http
 * client doesn't), so a 3xx is just a failed attempt.
 */
export class WebhookSender {
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };

  constructor(
    private readonly policy: NetworkPolicy,
    private readonly options: WebhookSenderOptions,
  ) {
    const common = { keepAlive: true, maxSockets: 64, lookup: policy.lookup };
    this.agents = { 'http:': new http.Agent(common), 'https:': new https.Agent(common) };
  }

  send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const started = performance.now();
    const done = (partial: Omit<AttemptResult, 'latencyMs'>): AttemptResult => ({
      ...partial,
      latencyMs: Math.round(performance.now() - started),
    });
    return new Promise<AttemptResult>((resolve) => {
      const fail = (error: string): void =>
        resolve(done({ statusCode: null, retryAfterMs: null, error }));
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return fail('invalid URL');
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        return fail(`unsupported scheme ${target.protocol}`);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      const literalRefusal = isIP(host) ? this.policy.refusal(host) : null;
      if (literalRefusal) return fail(`refused address: ${literalRefusal}`);

      const client = target.protocol === 'https:' ? https : http;
      const request = client.request(target, {
        method: 'POST',
        agent: this.agents[target.protocol],
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'wagw-webhooks/1',
          ...headers,
        },
      });
      const timer = setTimeout(
        () => request.destroy(new Error(`timed out after ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
      let settled = false;
      const settle = (result: AttemptResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      request.on('socket', (socket: Socket) => {
        if (!socket.connecting) return; // a kept-alive socket, checked when it connected
        socket.once('connect', () => {
          const refusal = socket.remoteAddress ? this.policy.refusal(socket.remoteAddress) : null;
          if (refusal) request.destroy(new RefusedAddressError(`refused address: ${refusal}`));
        });
      });
      request.on('error', (error: Error & { code?: string }) =>
        settle(done({ statusCode: null, retryAfterMs: null, error: describe(error) })),
      );
      request.on('response', (response) => {
        const statusCode = response.statusCode ?? 0;
        const retryAfterMs = parseRetryAfter(singleHeader(response.headers['retry-after']));
        const ok = statusCode >= 200 && statusCode < 300;
        const answer = (): void =>
          settle(done({ statusCode, retryAfterMs, error: ok ? null : `HTTP ${statusCode}` }));
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          // The status is all we need: stop reading a receiver that talks too much.
          if (read > this.options.maxResponseBytes) {
            answer();
            response.destroy();
          }
        });
        response.on('end', answer);
        response.on('error', answer);
        response.on('close', answer);
      });
      request.end(body);
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

const singleHeader = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

function describe(error: Error & { code?: string }): string {
  if (error instanceof RefusedAddressError) return error.message;
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
