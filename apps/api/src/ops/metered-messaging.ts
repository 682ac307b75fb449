import type { CommandContract } from '@wagw/contracts';
import {
  CommandUnavailableError,
  type CommandClient,
  type EventConsumer,
  type EventHandler,
  type RequestOptions,
} from '@wagw/messaging';
import type { MetricsService } from './metrics.service.js';

/** The API's command client, timing every command (`command_duration_seconds`). */
export class MeteredCommandClient implements CommandClient {
  constructor(
    private readonly inner: CommandClient,
    private readonly metrics: MetricsService,
  ) {}

  async request<Req, Res>(
    command: CommandContract<Req, Res>,
    payload: Req,
    options: RequestOptions,
  ): Promise<Res> {
    const end = this.metrics.commandDuration.startTimer({ command: command.pattern });
    try {
      const reply = await this.inner.request(command, payload, options);
      end({ outcome: 'replied' });
      return reply;
    } catch (error) {
      end({ outcome: error instanceof CommandUnavailableError ? 'unavailable' : 'refused' });
      throw error;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The API's event consumer, measuring how far behind the events it folds are. */
export class MeteredEventConsumer implements EventConsumer {
  constructor(
    private readonly inner: EventConsumer,
    private readonly metrics: MetricsService,
  ) {}

  consume(durableName: string, handler: EventHandler): Promise<void> {
    const lag = this.metrics.eventConsumerLag.labels({ durable: durableName });
    return this.inner.consume(durableName, async (event) => {
      lag.observe(Math.max(0, Date.now() - event.occurredAt) / 1000);
      await handler(event);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
