import { parseGatewayEvent, type AnyGatewayEvent } from '@wagw/contracts';
import type { EventPublisher } from '../messaging.ports.js';
import type { InProcessBroker } from './in-process.broker.js';

/**
 * The embedded mode's EventPublisher: appending to the in-memory log is the "durable" write,
 * so an event is durable as soon as publish() returns and there is never a backlog.
 */
export class InProcessEventPublisher implements EventPublisher {
  private closed = false;

  constructor(private readonly broker: InProcessBroker) {}

  readonly pending = 0;
  readonly backlogged = false;

  publish(event: AnyGatewayEvent): void {
    if (this.closed) throw new Error(`event publisher is closed; event ${event.id} refused`);
    // Same checks and encoding as the NATS publisher: a bad event fails at the call site.
    parseGatewayEvent(event);
    this.broker.append(event.id, JSON.stringify(event));
  }

  /** Appending is the durable write: resolved as soon as publish() returns. */
  async publishDurably(event: AnyGatewayEvent): Promise<void> {
    await Promise.resolve();
    this.publish(event);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
