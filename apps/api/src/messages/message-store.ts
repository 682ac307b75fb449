import { Inject, Injectable } from '@nestjs/common';
import type { AnyGatewayEvent } from '@wagw/contracts';
import { MessagesRepository } from './messages.repository.js';

/** The message events of the fold: each batch stored in one statement per kind. */
@Injectable()
export class MessageStore {
  constructor(@Inject(MessagesRepository) private readonly messages: MessagesRepository) {}

  static handles(event: AnyGatewayEvent): boolean {
    return (
      event.type === 'message.received' ||
      event.type === 'message.sent' ||
      event.type === 'channel.message' ||
      event.type === 'message.ack'
    );
  }

  async apply(events: readonly AnyGatewayEvent[]): Promise<void> {
    const messages = [];
    const acks = [];
    for (const event of events) {
      const where = { organizationId: event.organizationId, sessionId: event.sessionId };
      switch (event.type) {
        case 'message.received':
        case 'message.sent':
        case 'channel.message':
          messages.push({ ...event.data, ...where });
          break;
        case 'message.ack':
          acks.push({ ...event.data, ...where });
          break;
        case 'session.status':
        case 'auth.qr':
        case 'auth.pairing_code':
        case 'session.paired':
        case 'session.logged_out':
          break;
      }
    }
    if (messages.length > 0) await this.messages.store(messages);
    if (acks.length > 0) await this.messages.applyAcks(acks);
  }
}
