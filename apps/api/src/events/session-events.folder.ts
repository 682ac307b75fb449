import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { EventConsumer } from '@wagw/messaging';
import { MessageStore } from '../messages/message-store.js';
import { EVENT_CONSUMER } from '../messaging/messaging.tokens.js';
import { SessionFoldRepository } from '../sessions/session-fold.repository.js';
import { FoldBatcher } from './fold-batcher.js';

/** The durable consumer, shared by every API replica, that folds gateway events into rows. */
export const FOLD_CONSUMER = 'api-session-fold';

/**
 * A Postgres data exception (class 22: a bad number, date or encoding) or integrity violation
 * (class 23): the event's data is at fault, and folding it again would fail again. Anything
 * else (connection lost, timeout, shutdown) is the moment's fault: redelivered.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

@Injectable()
export class SessionEventsFolder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionEventsFolder.name);

  constructor(
    @Inject(EVENT_CONSUMER) private readonly consumer: EventConsumer,
    @Inject(SessionFoldRepository) private readonly fold: SessionFoldRepository,
    @Inject(MessageStore) private readonly messages: MessageStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const batcher = new FoldBatcher((events) => this.fold.apply(events), {
      isPoison: isDataError,
    });
    // Message events are stored (idempotently) as well as folded: acknowledged once both are.
    const store = new FoldBatcher((events) => this.messages.apply(events), {
      isPoison: isDataError,
    });
    await this.consumer.consume(FOLD_CONSUMER, async (event) => {
      if (!MessageStore.handles(event)) return batcher.fold(event);
      await Promise.all([batcher.fold(event), store.fold(event)]);
    });
    this.logger.log('folding gateway events into session rows and stored messages');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.close();
  }
}
