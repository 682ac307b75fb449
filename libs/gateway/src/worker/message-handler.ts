import {
  type EventDataMap,
  InvalidPayloadError,
  type MessageEventData,
  type SendMessageRequest,
} from '@wagw/contracts';
import {
  type WaChannelMessage,
  type WaConnection,
  type WaInboundMessage,
  type WaReceipt,
  type WaSendResult,
  WaUnsupportedContentError,
} from '@wagw/whatsapp';
import type { Logger } from 'pino';

/** What the message handler needs of its session runner. */
export interface MessageHandlerContext {
  sessionId: string;
  logger: Logger;
  /** The open connection, or null while there is none. */
  connection(): WaConnection | null;
  /** Our own JID, once paired. */
  ownJid(): string | null;
  /** The session's settings as of the last lease renewal. */
  settings(): { autoRead: boolean; presenceTyping: boolean };
  /** Publishes; resolves once durable. Rejects when this runner no longer holds the lease. */
  emitDurably<T extends 'message.received' | 'message.ack' | 'channel.message'>(
    type: T,
    data: EventDataMap[T],
  ): Promise<void>;
  /** Publishes without waiting (the API also stores what it sent itself). */
  emit(type: 'message.sent', data: EventDataMap['message.sent']): void;
}

/** Why a send was refused, for the command's reply. */
export class SendRefusedError extends Error {
  constructor(
    readonly reason: 'not_connected' | 'unsupported' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

/** "typing…" lasts with the text's length: 40 ms a character, at least 300 ms, at most 1.5 s. */
export const typingDelayMs = (text: string): number =>
  Math.min(1_500, Math.max(300, text.length * 40));

/**
 * Message traffic of one held session, beside the runner (which is about the lifecycle):
 * inbound messages, receipts and channel posts become events that are durable before the
 * driver acknowledges them to the network; `autoRead` marks inbound messages read once stored;
 * sends go out on the open connection, with "typing…" first when `presenceTyping` is on.
 */
export class MessageHandler {
  constructor(private readonly ctx: MessageHandlerContext) {}

  async onMessage(message: WaInboundMessage): Promise<void> {
    const data: MessageEventData = {
      id: message.id,
      chatJid: message.chatJid,
      senderJid: message.fromJid,
      fromMe: message.fromMe,
      timestamp: message.timestamp,
      type: message.type ?? 'text',
      text: message.text,
      media: message.media ?? null,
      replyTo: message.replyTo ?? null,
      status: message.fromMe ? 'sent' : 'received',
      raw: message.raw ?? null,
    };
    if (!(await this.emitInbound('message.received', data))) return;
    // Not awaited: the driver acknowledges the message once this resolves (it is durable now),
    // and a read receipt may need a round trip the acknowledgement would wait behind.
    if (!message.fromMe && this.ctx.settings().autoRead) void this.markRead(message);
  }

  async onReceipt(receipt: WaReceipt): Promise<void> {
    await this.ctx.emitDurably('message.ack', {
      messageId: receipt.messageId,
      chatJid: receipt.chatJid,
      status: receipt.status,
      timestamp: receipt.timestamp,
    });
  }

  async onChannelMessage(post: WaChannelMessage): Promise<void> {
    await this.emitInbound('channel.message', {
      id: post.id,
      chatJid: post.channelJid,
      senderJid: null,
      fromMe: false,
      timestamp: post.timestamp,
      type: post.type ?? 'text',
      text: post.text,
      media: post.media ?? null,
      replyTo: null,
      status: 'received',
      raw: post.raw ?? null,
    });
  }

  /**
   * Publishes an inbound message; false when the contract cannot carry it. Such a message is
   * skipped with a warning (ids only, never content) and resolves, so the network considers it
   * handled: rejecting would have it redelivered to every holder in turn, and an unhandled
   * rejection used to take the gateway process down with it (a poison message).
   */
  private async emitInbound(
    type: 'message.received' | 'channel.message',
    data: MessageEventData,
  ): Promise<boolean> {
    try {
      await this.ctx.emitDurably(type, data);
      return true;
    } catch (error) {
      if (!(error instanceof InvalidPayloadError)) throw error;
      this.ctx.logger.warn(
        {
          sessionId: this.ctx.sessionId,
          messageId: data.id,
          chatJid: data.chatJid,
          type,
          problem: error.message,
        },
        'inbound message skipped: the event contract cannot carry it',
      );
      return false;
    }
  }

  async send(request: SendMessageRequest): Promise<WaSendResult> {
    const connection = this.ctx.connection();
    if (!connection) throw new SendRefusedError('not_connected', 'the session is not connected');
    const { content } = request;
    if (content.type === 'text' && this.ctx.settings().presenceTyping) {
      await connection
        .sendPresence(request.to, 'composing')
        .then(() => new Promise((r) => setTimeout(r, typingDelayMs(content.text))))
        .catch((error: unknown) =>
          this.ctx.logger.debug({ err: error, sessionId: this.ctx.sessionId }, 'no typing shown'),
        );
    }
    let sent: WaSendResult;
    try {
      sent = await connection.sendMessage(request.to, content, {
        replyTo: request.replyTo,
        mentions: request.mentions,
      });
    } catch (error) {
      if (error instanceof WaUnsupportedContentError)
        throw new SendRefusedError('unsupported', error.message);
      throw new SendRefusedError('failed', error instanceof Error ? error.message : 'send failed');
    }
    const text =
      content.type === 'text'
        ? content.text
        : 'media' in content
          ? content.media.caption
          : content.type === 'reaction'
            ? content.emoji
            : null;
    this.ctx.emit('message.sent', {
      id: sent.id,
      chatJid: sent.chatJid,
      senderJid: this.ctx.ownJid(),
      fromMe: true,
      timestamp: sent.timestamp,
      type: content.type,
      text,
      media:
        'media' in content
          ? {
              mimetype: content.media.mimetype,
              filename: content.media.filename,
              size: Buffer.byteLength(content.media.base64, 'base64'),
              sha256: sent.mediaSha256 ?? null,
            }
          : null,
      replyTo: request.replyTo,
      status: 'sent',
      raw: sent.raw ?? null,
    });
    return { id: sent.id, chatJid: sent.chatJid, timestamp: sent.timestamp };
  }

  private async markRead(message: WaInboundMessage): Promise<void> {
    const connection = this.ctx.connection();
    if (!connection) return;
    await connection
      .markRead([{ chatJid: message.chatJid, id: message.id }])
      .catch((error: unknown) =>
        this.ctx.logger.debug({ err: error, sessionId: this.ctx.sessionId }, 'not marked read'),
      );
  }
}
