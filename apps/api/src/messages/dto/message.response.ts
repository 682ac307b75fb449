import { ApiProperty } from '@nestjs/swagger';
import { MESSAGE_TYPES } from '@wagw/contracts';
import type { ChatSummary, StoredMessage } from '../messages.repository.js';

export class SentMessageResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ example: '6281234567890@s.whatsapp.net' }) chatJid!: string;
  @ApiProperty({ type: 'integer' }) timestamp!: number;
  @ApiProperty({ enum: ['sent'] }) status!: 'sent';
}

export class MessageMediaResponse {
  @ApiProperty() mimetype!: string;
  @ApiProperty({ type: String, nullable: true }) filename!: string | null;
  @ApiProperty({ type: 'integer', nullable: true }) size!: number | null;
  @ApiProperty({ type: String, nullable: true }) sha256!: string | null;
}

export class MessageResponse {
  @ApiProperty() id!: string;
  @ApiProperty() chatJid!: string;
  @ApiProperty({ type: String, nullable: true, description: "The sender's JID" })
  from!: string | null;
  @ApiProperty() fromMe!: boolean;
  @ApiProperty({ type: 'integer' }) timestamp!: number;
  @ApiProperty({ enum: [...MESSAGE_TYPES] })
  type!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The text, or the caption' })
  text!: string | null;
  @ApiProperty({ type: MessageMediaResponse, nullable: true }) media!: MessageMediaResponse | null;
  @ApiProperty({ type: String, nullable: true }) replyTo!: string | null;
  @ApiProperty({ enum: ['received', 'sent', 'delivered', 'read'] }) status!: string;

  static from(m: StoredMessage): MessageResponse {
    return {
      id: m.id,
      chatJid: m.chatJid,
      from: m.senderJid,
      fromMe: m.fromMe,
      timestamp: m.timestamp,
      type: m.type,
      text: m.text,
      media: m.media,
      replyTo: m.replyTo,
      status: m.status,
    };
  }
}

export class MessageListResponse {
  @ApiProperty({ type: [MessageResponse] }) items!: MessageResponse[];
  @ApiProperty({ description: 'Opaque cursor of the next page; "" on the last page' })
  nextCursor!: string;
}

export class ChatResponse {
  @ApiProperty({ example: '6281234567890@s.whatsapp.net' }) jid!: string;
  @ApiProperty({ type: MessageResponse, nullable: true }) lastMessage!: MessageResponse | null;

  static from(c: ChatSummary): ChatResponse {
    return { jid: c.jid, lastMessage: c.lastMessage ? MessageResponse.from(c.lastMessage) : null };
  }
}

export class ChatListResponse {
  @ApiProperty({ type: [ChatResponse] }) items!: ChatResponse[];
  @ApiProperty({ description: 'Opaque cursor of the next page; "" on the last page' })
  nextCursor!: string;
}
