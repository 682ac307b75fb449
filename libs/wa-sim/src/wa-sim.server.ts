import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { registerControlApi } from './control-api.routes.js';
import { WaSimNetwork, type WaSimLogger } from './wa-sim.network.js';
import type { WebMessagingHandler } from './web/messaging.port.js';
import type { WebSimNetwork } from './web/web-sim.network.js';

export interface WaSimOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Lifetime of each QR ref; default 20 s, as WhatsApp. */
  qrTtlMs?: number;
  /** WhatsApp Web: lifetime of the first QR ref; default 60 s, as WhatsApp (later ones: qrTtlMs). */
  qrFirstTtlMs?: number;
  /**
   * WhatsApp Web: the root key's Curve25519 private key, base64 (32 bytes). Unset → the key in
   * `dataDir` (generated there on first start), or a fresh key per process without `dataDir`.
   */
  rootPrivateKey?: string;
  /** Where the generated root key is kept. */
  dataDir?: string;
  /** WhatsApp Web: the messaging half; default: `WebMessagingService` (Signal 1:1, channels). */
  messaging?: WebMessagingHandler;
  /** Unscanned refs before the network closes a pairing connection with 408; default 6, 0 = never. */
  qrMaxRefs?: number;
  /** Lifetime of a pairing code; default 180 s. */
  pairingCodeTtlMs?: number;
  /**
   * WhatsApp Web's media host (HTTPS, self-signed): port (default 0: a free one) and the name
   * clients reach it by (default: `host`, loopback for a wildcard), which `media_conn` announces
   * and the certificate names.
   */
  mediaPort?: number;
  mediaPublicHost?: string;
  /** Frames kept per offline device; default 1,000. */
  offlineQueueLimit?: number;
  /**
   * One shared heartbeat runs every min(pingIntervalMs, helloTimeoutMs): it pings every socket,
   * drops those that missed the previous pong, and closes sockets still silent (no hello)
   * helloTimeoutMs after opening (408). Defaults 25 s and 10 s.
   */
  pingIntervalMs?: number;
  helloTimeoutMs?: number;
  logger?: WaSimLogger;
}

export interface WaSimServer {
  /** Where gateway clients connect: `ws://host:port/ws`. */
  readonly url: string;
  /** Where WhatsApp Web clients (Baileys' `waWebSocketUrl`) connect: `ws://host:port/ws/chat`. */
  readonly webUrl: string;
  /** The root public key a WhatsApp Web client must trust (base64, 32 bytes). */
  readonly rootPublicKey: string;
  /** The WhatsApp Web side, for callers embedding the sim. */
  readonly web: WebSimNetwork;
  /** The media host: `host:port` (as `media_conn` announces it) and its certificate (PEM). */
  readonly media: { hostname: string; certificate: string };
  /** Base of the control API: `http://host:port` (routes under `/sim/v1`). */
  readonly controlUrl: string;
  /** The network itself, for callers embedding the sim in their own process. */
  readonly network: WaSimNetwork;
  close(): Promise<void>;
}

const MAX_FRAME_BYTES = 1024 * 1024;
/** WhatsApp Web frames carry prekey uploads and media-less messages: a few MB at most. */
const WEB_MAX_FRAME_BYTES = 16 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 500;
const silentLogger: WaSimLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Starts the simulated WhatsApp network: one HTTP server for the WebSocket and the control API. */
export async function startWaSim(options: WaSimOptions): Promise<WaSimServer> {
  const logger = options.logger ?? silentLogger;
  const network = new WaSimNetwork({
    qrTtlMs: positive(options.qrTtlMs, 20_000, 'qrTtlMs'),
    qrMaxRefs: nonNegativeInt(options.qrMaxRefs, 6, 'qrMaxRefs'),
    pairingCodeTtlMs: positive(options.pairingCodeTtlMs, 180_000, 'pairingCodeTtlMs'),
    offlineQueueLimit: positive(options.offlineQueueLimit, 1_000, 'offlineQueueLimit'),
    logger,
  });
  const pingIntervalMs = positive(options.pingIntervalMs, 25_000, 'pingIntervalMs');
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
    options.messaging ?? new WebMessagingService({ offlineQueueLimit: options.offlineQueueLimit });
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

  const app = Fastify({ logger: false, bodyLimit: MAX_FRAME_BYTES });
  registerControlApi(
    app,
    network,
    web,
    messaging instanceof WebMessagingService ? messaging : null,
    { hostname: media.hostname, certificate: media.certificate },
  );

  // `alive` per socket for the heartbeat: one shared interval for all sockets, no per-socket timer.
  const sockets = new Map<WebSocket, { alive: boolean }>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });

  const accept = (ws: WebSocket): void => {
    const entry = { alive: true };
    sockets.set(ws, entry);
    const conn = network.open({
      send: (data) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data);
      },
      close: (code, reason) => ws.close(code, reason),
    });
    ws.on('pong', () => {
      entry.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        // Binary frames are not part of the protocol: an empty text fails to decode.
        network.receive(conn, isBinary ? '' : rawToString(data));
      } catch (err) {
        logger.error({ err }, 'wa-sim failed on a frame');
        network.closed(conn);
        ws.close(1011, 'internal error');
      }
    });
    ws.on('close', () => {
      sockets.delete(ws);
      network.closed(conn);
    });
    // An 'error' is always followed by 'close'; listening keeps it from crashing the process.
    ws.on('error', () => undefined);
  };

  const webWss = new WebSocketServer({
    noServer: true,
    maxPayload: WEB_MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  const webSockets = new Set<WebSocket>();
  const acceptWeb = (ws: WebSocket, clientId: string): void => {
    webSockets.add(ws);
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
      webSockets.delete(ws);
      conn.socketClosed();
    });
    ws.on('error', () => undefined);
  };

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const [path, query] = (req.url ?? '').split('?');
    if (path === '/ws/chat') {
      const clientId = new URLSearchParams(query ?? '').get('clientId') ?? 'unknown';
      webWss.handleUpgrade(req, socket, head, (ws) => acceptWeb(ws, clientId.slice(0, 200)));
      return;
    }
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, accept);
  });

  const heartbeat = setInterval(
    () => {
      for (const [ws, entry] of sockets) {
        if (!entry.alive) {
          ws.terminate();
          continue;
        }
        entry.alive = false;
        ws.ping();
      }
      network.sweepSilent(helloTimeoutMs);
      web.sweepSilent(helloTimeoutMs);
    },
    Math.min(pingIntervalMs, helloTimeoutMs),
  );
  heartbeat.unref();

  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port, host });
  } catch (err) {
    clearInterval(heartbeat);
    await media.close();
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  const urlHost = displayHost(host);

  let closing: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    clearInterval(heartbeat);
    network.shutdown();
    web.shutdown();
    await waitForSockets(sockets, SHUTDOWN_GRACE_MS);
    for (const ws of sockets.keys()) ws.terminate();
    for (const ws of webSockets) ws.terminate();
    wss.close();
    webWss.close();
    await app.close();
    await media.close();
  };

  return {
    url: `ws://${urlHost}:${port}/ws`,
    webUrl: `ws://${urlHost}:${port}/ws/chat`,
    controlUrl: `http://${urlHost}:${port}`,
    rootPublicKey: web.rootPublicKey.toString('base64'),
    media: { hostname: media.hostname, certificate: media.certificate },
    network,
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

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** A wildcard bind address is reached through loopback; IPv6 literals need brackets in URLs. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Resolves once every socket finished its closing handshake, or after `ms`. */
async function waitForSockets(sockets: Map<WebSocket, unknown>, ms: number): Promise<void> {
  if (sockets.size === 0) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    let left = sockets.size;
    for (const ws of sockets.keys()) {
      ws.once('close', () => {
        if (--left > 0) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}
