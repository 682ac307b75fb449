import { randomBytes } from 'node:crypto';
import type { AnyGatewayEvent } from '@wagw/contracts';
import {
  ensureEventsStream,
  JetStreamEventPublisher,
  LazyNatsConnection,
  silentMessagingLogger,
} from '@wagw/messaging';
import { NATS_URL } from './fleet.js';
import { statusEvent } from './gateway-events.js';

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
   * A `session.status` event of this source's gateway, as `statusEvent` makes it (with a
   * secret-looking QR in its state, which must never reach a client); `reason` can make it as
   * big as a test needs.
   */
  event(
    organizationId: string,
    sessionId: string,
    options: { occurredAt?: number; reason?: string } = {},
  ): AnyGatewayEvent {
    this.seq += 1;
    const event = statusEvent({
      organizationId,
      sessionId,
      fence: { gatewayId: this.gatewayId, epoch: 1, seq: this.seq },
      state: { reason: options.reason ?? null, qr: 'internal-state-qr' },
    });
    return options.occurredAt === undefined ? event : { ...event, occurredAt: options.occurredAt };
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
