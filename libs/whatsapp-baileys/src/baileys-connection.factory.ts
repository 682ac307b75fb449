import type { WaConnection, WaConnectionFactory, WaConnectionOptions } from '@wagw/whatsapp';
import type { Agent } from 'node:https';
import type { Logger } from 'pino';
import type { BaileysConnectionSettings } from './baileys.connection.js';
import { BoundedCacheStore } from './auth/bounded-cache.store.js';
import { BaileysConnection } from './baileys.connection.js';
import { loadBaileys } from './baileys.module.js';

export interface BaileysConnectionFactoryOptions {
  /** The WhatsApp Web socket; undefined → the real WhatsApp network. */
  waWebSocketUrl?: string;
  connectTimeoutMs?: number;
  keepAliveIntervalMs?: number;
  logger: Logger;
  /** Lifetime of every QR ref; unset → WhatsApp's own (60 s for the first, 20 s for the next). */
  qrTimeoutMs?: number;
  /** Runs before every connect (the sandbox's root-key trust); a rejection fails the connect. */
  prepare?: () => Promise<void>;
  /** A stored message by session and key (Baileys' retry path, quoted replies). */
  getMessage?: BaileysConnectionSettings['getMessage'];
  /** Media uploads/downloads through this agent (the sandbox: trusts the sim's media host). */
  mediaAgent?: () => Agent | undefined;
}

/** The Baileys driver: one `BaileysConnection` per connect. */
export class BaileysConnectionFactory implements WaConnectionFactory {
  readonly driver = 'baileys';
  /** Baileys' retry counters, outside any one socket, bounded for the whole process. */
  private readonly retryCounters = new BoundedCacheStore({ max: 100_000, ttlMs: 60 * 60_000 });

  constructor(private readonly options: BaileysConnectionFactoryOptions) {}

  /**
   * Loads Baileys (≈ 0.2 s of CPU) and runs `prepare` ahead of the first connect: a standby
   * gateway would otherwise pay them at its first takeover, on the failover's critical path.
   * A failed `prepare` is left for the first connect to retry.
   */
  async warmUp(): Promise<void> {
    await loadBaileys();
    await this.options.prepare?.().catch(() => undefined);
  }

  create(options: WaConnectionOptions): WaConnection {
    return new BaileysConnection(options, {
      waWebSocketUrl: this.options.waWebSocketUrl,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 20_000,
      keepAliveIntervalMs: this.options.keepAliveIntervalMs ?? 30_000,
      logger: this.options.logger,
      browser: ['WhatsApp Gateway', 'Chrome', '1.0.0'],
      retryCounters: () => this.retryCounters,
      qrTimeoutMs: this.options.qrTimeoutMs,
      prepare: this.options.prepare,
      getMessage: this.options.getMessage,
      mediaAgent: this.options.mediaAgent,
    });
  }
}

/**
 * Sandbox only: trust certificate chains issued under `publicKey` (base64, 32 bytes; the
 * sim's `GET /sim/v1/root-key`) instead of WhatsApp's root. Process-wide; never called in
 * `whatsapp` mode, which keeps Baileys' trust as shipped.
 */
export async function trustSandboxRootKey(publicKey: string): Promise<void> {
  const key = Buffer.from(publicKey, 'base64');
  if (key.length !== 32) throw new RangeError('the sandbox root key must be 32 bytes, base64');
  (await loadBaileys()).WA_CERT_DETAILS.PUBLIC_KEY = key;
}
