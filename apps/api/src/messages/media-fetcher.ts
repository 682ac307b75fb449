import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { type NetworkPolicy, RefusedAddressError } from '../webhooks/network-policy.js';

export interface MediaFetcherOptions {
  timeoutMs: number;
  maxBytes: number;
}

/** Why a media URL could not be fetched: the client's to fix (400). */
export class MediaFetchError extends Error {}

/**
 * GETs media for a send from a client's URL under the same network policy as webhooks (the
 * DNS answer decides, and every socket is checked on connect): private, loopback, link-local
 * and metadata addresses are refused unless allowed. One deadline covers the whole fetch;
 * more than `maxBytes` aborts it; redirects are not followed.
 */
export class MediaFetcher {
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };

  constructor(
    private readonly policy: NetworkPolicy,
    private readonly options: MediaFetcherOptions,
  ) {
    const common = { keepAlive: false, lookup: policy.lookup };
    this.agents = { 'http:': new http.Agent(common), 'https:': new https.Agent(common) };
  }

  /** Why this URL can be refused before any lookup (scheme, or an IP literal refused), or null. */
  refusal(url: string): string | null {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return 'the media URL is not a URL';
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      return 'the media URL must be http or https';
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const why = isIP(host) ? this.policy.refusal(host) : null;
    return why ? `refused address: ${why}` : null;
  }

  fetch(url: string): Promise<{ bytes: Buffer; contentType: string | null }> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new MediaFetchError('the media URL is not a URL'));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      return Promise.reject(new MediaFetchError('the media URL must be http or https'));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const refusal = isIP(host) ? this.policy.refusal(host) : null;
    if (refusal) return Promise.reject(new MediaFetchError(`refused address: ${refusal}`));
    return new Promise((resolve, reject) => {
      const client = target.protocol === 'https:' ? https : http;
      const request = client.request(target, {
        method: 'GET',
        agent: this.agents[target.protocol as 'http:' | 'https:'],
        headers: { 'user-agent': 'wagw-media/1' },
      });
      const fail = (message: string): void => {
        clearTimeout(timer);
        request.destroy();
        reject(new MediaFetchError(message));
      };
      const timer = setTimeout(
        () => fail(`the media URL did not answer within ${this.options.timeoutMs} ms`),
        this.options.timeoutMs,
      );
      request.on('socket', (socket: Socket) => {
        socket.once('connect', () => {
          const why = socket.remoteAddress ? this.policy.refusal(socket.remoteAddress) : null;
          if (why) request.destroy(new RefusedAddressError(`refused address: ${why}`));
        });
      });
      request.on('error', (error) =>
        fail(
          error instanceof RefusedAddressError
            ? error.message
            : `the media URL could not be fetched: ${error.message}`,
        ),
      );
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) return fail(`the media URL answered HTTP ${status}`);
        const declared = Number(response.headers['content-length'] ?? NaN);
        if (declared > this.options.maxBytes)
          return fail(`the media is larger than ${this.options.maxBytes} bytes`);
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.options.maxBytes)
            return fail(`the media is larger than ${this.options.maxBytes} bytes`);
          chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          const type = response.headers['content-type'];
          resolve({ bytes: Buffer.concat(chunks), contentType: type ? type.split(';')[0]! : null });
        });
        response.on('error', (error) => fail(`the media download failed: ${error.message}`));
      });
      request.end();
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}
