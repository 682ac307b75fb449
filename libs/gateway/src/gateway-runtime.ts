import type { CommandServer, EventPublisher } from '@wagw/messaging';
import type { WaConnectionFactory } from '@wagw/whatsapp';
import {
  BaileysConnectionFactory,
  loadBaileys,
  SandboxMediaTrust,
  sandboxEndpoints,
  sandboxTrust,
} from '@wagw/whatsapp-baileys';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { AuthStateCipher } from './auth-state/auth-state.cipher.js';
import { PostgresAuthStore } from './auth-state/postgres-auth.store.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { LeaseRepository } from './leases/lease.repository.js';
import { GatewayMetrics } from './ops/gateway-metrics.js';
import { MeteredConnectionFactory } from './ops/metered-connection.factory.js';
import { meteredEventPublisher } from './ops/metered-event.publisher.js';
import { ConnectSlotsFactory } from './worker/connect-slots.factory.js';
import { GatewayWorker } from './worker/gateway-worker.js';
import { StoredMessageReader } from './worker/stored-message.reader.js';

export interface GatewayRuntimeDeps {
  config: GatewayConfig;
  dataSource: DataSource;
  /**
   * Leases on connections of their own (default: `dataSource`): a burst of auth-state writes
   * queued on the main pool (a fleet of sessions logging in at once) can never hold a renewal
   * past the TTL, which would make the worker fence itself off every session.
   */
  leaseDataSource?: DataSource;
  commands: CommandServer;
  publisher: EventPublisher;
  /** 32-byte keys for auth state at rest, the current one first. */
  authStateKeys: readonly Buffer[];
  logger: Logger;
  /** Defaults to Baileys on WA_NETWORK. */
  connections?: WaConnectionFactory;
  /** Default process metrics are registered once per process (the embedded API has its own). */
  defaultMetrics?: boolean;
}

export interface GatewayRuntime {
  worker: GatewayWorker;
  /** Graceful stop: the worker hands its sessions over, then the connect slots stop adjusting. */
  stop(): Promise<void>;
  metrics: GatewayMetrics;
  connections: WaConnectionFactory;
  /**
   * Loads the WhatsApp driver ahead of the first connection, in the background once the worker
   * is ready (a standby would otherwise load it at its first takeover); logs how long it took.
   */
  warmUp(): Promise<void>;
}

/**
 * The gateway's one WhatsApp driver, Baileys: on the real network, or on the sandbox (wa-sim)
 * trusting the root key it publishes. `whatsapp` never touches Baileys' trust.
 */
export function createConnectionFactory(
  config: GatewayConfig,
  logger: Logger,
  dataSource?: DataSource,
): WaConnectionFactory {
  const sandbox = sandboxEndpoints(config.WA_SIM_URL);
  const stored = dataSource ? new StoredMessageReader(dataSource) : null;
  const trustRoot = sandboxTrust(sandbox.rootKeyUrl);
  const media = new SandboxMediaTrust(sandbox.mediaHostUrl);
  const getMessage = stored
    ? async (sessionId: string, key: { remoteJid?: string | null; id?: string | null }) => {
        const content = await stored.content(sessionId, key);
        return content ? (await loadBaileys()).proto.Message.fromObject(content) : undefined;
      }
    : undefined;
  return config.WA_NETWORK === 'sandbox'
    ? new BaileysConnectionFactory({
        logger,
        qrTimeoutMs: config.WA_QR_TIMEOUT_MS,
        keepAliveIntervalMs: config.WA_KEEPALIVE_MS,
        waWebSocketUrl: sandbox.webSocketUrl,
        prepare: async () => {
          await trustRoot();
          await media.prepare();
        },
        // The sim's media host certificate, for media only, and only in sandbox mode.
        mediaAgent: () => media.agent(),
        getMessage,
      })
    : new BaileysConnectionFactory({
        logger,
        qrTimeoutMs: config.WA_QR_TIMEOUT_MS,
        keepAliveIntervalMs: config.WA_KEEPALIVE_MS,
        getMessage,
      });
}

/** Wires one gateway worker from its parts; the caller owns the database and the transport. */
export function createGatewayRuntime(deps: GatewayRuntimeDeps): GatewayRuntime {
  const metrics = new GatewayMetrics(deps.defaultMetrics ?? true);
  const cipher = new AuthStateCipher(deps.authStateKeys);
  metrics.capacity.set(deps.config.GATEWAY_CAPACITY);
  const driver =
    deps.connections ?? createConnectionFactory(deps.config, deps.logger, deps.dataSource);
  const slots = new ConnectSlotsFactory(driver, {
    logins: deps.config.WA_CONNECT_CONCURRENCY,
    pairings: deps.config.WA_PAIRING_CONCURRENCY,
    loopLagLimitMs: deps.config.WA_CONNECT_LAG_LIMIT_MS,
  });
  metrics.connectSlots = slots;
  const connections = new MeteredConnectionFactory(slots, metrics);
  const worker = new GatewayWorker(
    {
      gatewayId: deps.config.GATEWAY_ID,
      capacity: deps.config.GATEWAY_CAPACITY,
      leaseTtlMs: deps.config.LEASE_TTL_MS,
    },
    {
      leases: new LeaseRepository(deps.leaseDataSource ?? deps.dataSource),
      connections,
      publisher: meteredEventPublisher(deps.publisher, metrics),
      commands: deps.commands,
      authStoreFor: (sessionId, fence, prefetched) =>
        new PostgresAuthStore(deps.dataSource, cipher, sessionId, fence, prefetched),
      logger: deps.logger.child({ gatewayId: deps.config.GATEWAY_ID }),
      metrics,
    },
  );
  return {
    worker,
    metrics,
    connections,
    warmUp: async () => {
      if (!driver.warmUp) return;
      const started = performance.now();
      try {
        await driver.warmUp();
        const ms = performance.now() - started;
        metrics.driverLoadSeconds.set(ms / 1000);
        deps.logger.info({ ms: Math.round(ms) }, 'WhatsApp driver loaded');
      } catch (error) {
        deps.logger.warn(
          { err: error },
          'WhatsApp driver not loaded ahead: the first connect will',
        );
      }
    },
    stop: async () => {
      await worker.stop();
      slots.close();
    },
  };
}
