import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCert } from './self-signed.cert.js';

/**
 * WhatsApp's media host, simulated: HTTPS (a self-signed certificate the control API hands to
 * sandbox clients), `POST /mms/<type>/<token>?auth=...` takes an encrypted upload as Baileys
 * sends it and answers `{ url, direct_path }`; `GET <direct_path>` serves it back. Files are
 * kept in memory, the oldest dropped past `maxStoredBytes`. The network never sees plaintext:
 * a simulated phone decrypts a file with the media key from the message it received.
 */
export interface MediaHost {
  /** `host:port` as `media_conn` announces it (what clients connect to). */
  readonly hostname: string;
  /** The certificate (PEM) a sandbox client trusts for `hostname`. */
  readonly certificate: string;
  /** The upload token `media_conn` hands out; uploads without it are refused. */
  readonly auth: string;
  readonly maxUploadBytes: number;
  /** The encrypted file stored under a direct path, if any. */
  file(directPath: string): Buffer | undefined;
  close(): Promise<void>;
}

export interface MediaHostOptions {
  /** Listen address (default 127.0.0.1) and port (0 = a free one). */
  host: string;
  port: number;
  /** The name clients reach it by (default: `host`); it is also in the certificate. */
  publicHost?: string;
  maxUploadBytes?: number;
  maxStoredBytes?: number;
}

const MMS_PATH = /^\/mms\/(image|video|audio|document)\/([A-Za-z0-9_-]{1,100})$/;

export async function startMediaHost(options: MediaHostOptions): Promise<MediaHost> {
  const publicHost = options.publicHost ?? displayName(options.host);
  const { cert, key } = selfSignedCert([publicHost, '127.0.0.1', 'localhost', '::1']);
  const auth = randomBytes(24).toString('base64url');
  const maxUploadBytes = options.maxUploadBytes ?? 64 * 1024 * 1024;
  const maxStoredBytes = options.maxStoredBytes ?? 256 * 1024 * 1024;
  const files = new Map<string, Buffer>();
  let stored = 0;
  let hostname = '';

  const keep = (path: string, data: Buffer): void => {
    const old = files.get(path);
    if (old) stored -= old.length;
    files.delete(path);
    files.set(path, data);
    stored += data.length;
    while (stored > maxStoredBytes && files.size > 1) {
      const [oldest, bytes] = files.entries().next().value as [string, Buffer];
      files.delete(oldest);
      stored -= bytes.length;
    }
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://media.invalid');
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET') {
      const file = files.get(url.pathname);
      if (!file) return reply(404, { error: 'not found' });
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': file.length,
      });
      res.end(file);
      return;
    }
    const match = MMS_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !match) return reply(404, { error: 'not found' });
    if (url.searchParams.get('auth') !== auth) return reply(401, { error: 'bad auth' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxUploadBytes) {
        reply(413, { error: 'too large' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > maxUploadBytes) return;
      // WhatsApp's direct paths look like /v/t62.7118-24/<id>?... ; ours name the token.
      const directPath = `/v/t62.7118-24/${match[1]}-${match[2]}-${randomBytes(6).toString('hex')}`;
      keep(directPath, Buffer.concat(chunks));
      reply(200, { url: `https://${hostname}${directPath}`, direct_path: directPath });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hostname = `${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`;
  return {
    hostname,
    certificate: cert,
    auth,
    maxUploadBytes,
    file: (directPath) => files.get(directPath.split('?')[0] ?? directPath),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A wildcard bind address is reached through loopback. */
function displayName(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
