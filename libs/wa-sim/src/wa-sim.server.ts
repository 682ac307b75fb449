import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { registerControlApi } from './control-api.routes.js';
import type { WebMessagingHandler } from './web/messaging.port.js';
import type { WebSimNetwork } from './web/web-sim.network.js';
import type { WaSimLogger } from './web/web-sim.views.js';

export interface WaSimOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Lifetime of the first QR ref; default 60 s, as WhatsApp (later ones: qrTtlMs). */
  qrFirstTtlMs?: number;
  /** Lifetime of each later QR ref; default 20 s, as WhatsApp. */
  qrTtlMs?: number;
  /**
   * QR refs sent in `pair-device`; when all expired unscanned the client gives up (408) and the
   * network cuts what is left. Default 6, as WhatsApp (0 also means 6).
   */
  qrMaxRefs?: number;
  /**
   * The root key's Curve25519 private key, base64 (32 bytes). Unset → the key in `dataDir`
   * (generated there on first start), or a fresh key per process without `dataDir`.
   */
  rootPrivateKey?: string;
  /** Where the generated root key is kept. */
  dataDir?: string;
  /** The messaging half; default: `WebMessagingService` (simulated phones, Signal 1:1, channels). */
  messaging?: WebMessagingHandler;
  /**
   * WhatsApp Web's media host (HTTPS, self-signed): port (default 0: a free one) and the name
   * clients reach it by (default: `host`, loopback for a wildcard), which `media_conn` announces
   * and the certificate names.
   */
  mediaPort?: number;
  mediaPublicHost?: string;
  /** Stanzas kept per companion until it acknowledges them (offline or not); default 1,000. */
  offlineQueueLimit?: number;
  /** A socket still in the Noise handshake this long after opening is cut; default 10 s. */
  helloTimeoutMs?: number;
  logger?: WaSimLogger;
}

export interface WaSimServer {
  /** Where WhatsApp Web clients (Baileys' `waWebSocketUrl`) connect: `ws://host:port/ws/chat`. */
  readonly webUrl: string;
  /** The root public key a WhatsApp Web client must trust (base64, 32 bytes). */
  readonly rootPublicKey: string;
  /** The network itself, for callers embedding the sim in their own process. */
  readonly web: WebSimNetwork;
  /** The media host: `host:port` (as `media_conn` announces it) and its certificate (PEM). */
  readonly media: { hostname: string; certificate: string };
  /** Base of the control API: `http://host:port` (routes under `/sim/v1`). */
  readonly controlUrl: string;
  close(): Promise<void>;
}

/** Control API bodies: JSON of a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;
/** WhatsApp Web frames carry prekey uploads and media-less messages: a few MB at most. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const silentLogger: WaSimLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Starts the simulated WhatsApp network: one HTTP server for WhatsApp Web (`/ws/chat`) and the
 * control API, and the media host beside it.
 */
export async function startWaSim(options: WaSimOptions): Promise<WaSimServer> {
  const logger = options.logger ?? silentLogger;
  const helloTimeoutMs = positive(options.helloTimeoutMs, 10_000, 'helloTimeoutMs');
  // The WhatsApp Web side needs Baileys (protobufs, curve): loaded here, not by the package.
  // One at a time: Jest's ESM loader fails on concurrent imports of one module graph.
  const { WebSimNetwork } = await import('./web/web-sim.network.js');
  const { issueServerIdentity, loadRootKey } = await import('./web/root-key.store.js');
  const { WebMessagingService } = await import('./web/messaging/web-messaging.service.js');
  const { startMediaHost } = await import('./web/media/media-host.server.js');
  const root = loadRootKey({ rootPrivateKey: options.rootPrivateKey, dataDir: options.dataDir });
  const qrMaxRefs = nonNegativeInt(options.qrMaxRefs, 6, 'qrMaxRefs');
  const messaging =
    options.messaging ??
    new WebMessagingService({
      offlineQueueLimit: positive(options.offlineQueueLimit, 1_000, 'offlineQueueLimit'),
    });
  const web = new WebSimNetwork({
    identity: issueServerIdentity(root),
    qrFirstTtlMs: positive(options.qrFirstTtlMs, 60_000, 'qrFirstTtlMs'),
    qrTtlMs: positive(options.qrTtlMs, 20_000, 'qrTtlMs'),
    qrRefs: qrMaxRefs === 0 ? 6 : qrMaxRefs,
    pairTimeoutMs: 15_000,
    messaging,
    logger,
  });

  const media = await startMediaHost({
    host: options.host ?? '127.0.0.1',
    port: options.mediaPort ?? 0,
    ...(options.mediaPublicHost ? { publicHost: options.mediaPublicHost } : {}),
  });
  if (messaging instanceof WebMessagingService) messaging.useMediaHost(media);

  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES });
  registerControlApi(app, web, messaging instanceof WebMessagingService ? messaging : null, {
    hostname: media.hostname,
    certificate: media.certificate,
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  const sockets = new Set<WebSocket>();
  const accept = (ws: WebSocket, clientId: string): void => {
    sockets.add(ws);
    const conn = web.open(
      {
        send: (data) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(data);
        },
        terminate: () => ws.terminate(),
        close: () => ws.close(),
      },
      clientId,
    );
    ws.on('message', (data: RawData) => {
      try {
        conn.receive(rawToBuffer(data));
      } catch (err) {
        logger.warn({ err }, 'wa-sim web: bad frame');
        conn.end(null);
      }
    });
    ws.on('close', () => {
      sockets.delete(ws);
      conn.socketClosed();
    });
    ws.on('error', () => undefined);
  };

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const [path, query] = (req.url ?? '').split('?');
    if (path !== '/ws/chat') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const clientId = new URLSearchParams(query ?? '').get('clientId') ?? 'unknown';
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, clientId.slice(0, 200)));
  });

  // One timer for every socket: cuts those still in the Noise handshake after helloTimeoutMs.
  const sweeper = setInterval(() => web.sweepSilent(helloTimeoutMs), helloTimeoutMs);
  sweeper.unref();

  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port, host });
  } catch (err) {
    clearInterval(sweeper);
    await media.close();
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  const urlHost = displayHost(host);

  let closing: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    clearInterval(sweeper);
    web.shutdown();
    for (const ws of sockets) ws.terminate();
    wss.close();
    await app.close();
    await media.close();
  };

  return {
    webUrl: `ws://${urlHost}:${port}/ws/chat`,
    controlUrl: `http://${urlHost}:${port}`,
    rootPublicKey: web.rootPublicKey.toString('base64'),
    media: { hostname: media.hostname, certificate: media.certificate },
    web,
    close: () => (closing ??= close()),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number`);
  }
  return value;
}

function nonNegativeInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be an integer >= 0`);
  }
  return value;
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A wildcard bind address is reached through loopback; IPv6 literals need brackets in URLs. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
