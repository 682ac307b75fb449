import { randomBytes } from 'node:crypto';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { newId } from '@wagw/domain';
import {
  ensureEventsStream,
  JetStreamEventPublisher,
  LazyNatsConnection,
  silentMessagingLogger,
} from '@wagw/messaging';
import { NATS_URL } from './fleet.js';

/**
 * Publishes session events exactly as a gateway worker does (its JetStream publisher, its
 * event shape with fence and state), so suites can drive the API's event stream at any rate
 * without holding WhatsApp sessions.
 */
export class GatewayEventSource {
  private readonly connection: LazyNatsConnection;
  private readonly publisher: JetStreamEventPublisher;
  private seq = 0;
  private readonly gatewayId = `gw-test-${randomBytes(2).toString('hex')}`;

  constructor(prefix: string, natsUrl = NATS_URL) {
    this.connection = new LazyNatsConnection({ servers: natsUrl, name: 'test-gateway-events' });
    this.publisher = new JetStreamEventPublisher({
      connection: () => this.connection.get(),
      prefix,
      ensureStream: (nc) => ensureEventsStream({ connection: nc, prefix }),
      logger: silentMessagingLogger,
    });
  }

  /**
   * A `session.status` event (with a secret-looking QR in its state, which must never leak);
   * `reason` can make it as big as a test needs.
   */
  event(
    organizationId: string,
    sessionId: string,
    options: { occurredAt?: number; reason?: string } = {},
  ): AnyGatewayEvent {
    const occurredAt = options.occurredAt ?? Date.now();
    const reason = options.reason ?? null;
    this.seq += 1;
    return {
      id: newId(),
      type: 'session.status',
      organizationId,
      sessionId,
      occurredAt,
      data: { status: 'working', gatewayId: this.gatewayId, reason },
      fence: { gatewayId: this.gatewayId, epoch: 1, seq: this.seq },
      state: {
        status: 'working',
        gatewayId: this.gatewayId,
        reason,
        phoneNumber: '6281234567890',
        waJid: '6281234567890@s.whatsapp.net',
        waLid: null,
        qr: 'internal-state-qr',
        qrExpiresAt: null,
        lastConnectedAt: occurredAt,
      },
    };
  }

  publish(event: AnyGatewayEvent): AnyGatewayEvent {
    this.publisher.publish(event);
    return event;
  }

  flush(timeoutMs = 10_000): Promise<void> {
    return this.publisher.flush(timeoutMs);
  }

  async close(): Promise<void> {
    await this.publisher.close();
    await this.connection.close();
  }
}
