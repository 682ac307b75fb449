import { Inject, Injectable } from '@nestjs/common';
import { DomainError, notFound, type Principal } from '@wagw/domain';
import { DataSource } from 'typeorm';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import { CursorCodec, readChatPosition, readMessagePosition } from './cursor.codec.js';
import {
  ChatListResponse,
  ChatResponse,
  MessageListResponse,
  MessageResponse,
} from './dto/message.response.js';
import type { PageQueryDto } from './dto/page-query.dto.js';
import { type ChatKind, MessagesRepository } from './messages.repository.js';

const DEFAULT_LIMIT = 50;

/**
 * Reading stored messages: chats, channels and their messages, newest first, in pages whose
 * cursors are signed (a tampered one is 400) and bound to their list. Keyset pagination on
 * (timestamp, row) never skips or repeats an item while messages arrive.
 */
@Injectable()
export class StoredMessagesService {
  private codec: Promise<CursorCodec> | null = null;

  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(MessagesRepository) private readonly messages: MessagesRepository,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  listChats(principal: Principal, sessionId: string, query: PageQueryDto) {
    return this.listChatsOf('chat', principal, sessionId, query);
  }

  listChannels(principal: Principal, sessionId: string, query: PageQueryDto) {
    return this.listChatsOf('channel', principal, sessionId, query);
  }

  /** A chat's messages; a chat with nothing stored is an empty page. */
  listChatMessages(principal: Principal, sessionId: string, jid: string, query: PageQueryDto) {
    return this.listMessagesOf('chat', principal, sessionId, jid, query);
  }

  /** A channel's posts; a channel the session does not know is 404. */
  listChannelMessages(principal: Principal, sessionId: string, jid: string, query: PageQueryDto) {
    return this.listMessagesOf('channel', principal, sessionId, jid, query);
  }

  /** v1: channel creation is not built; 501 after the session lookup, nothing persisted. */
  async createChannel(principal: Principal, sessionId: string): Promise<never> {
    await this.requireSession(principal, sessionId);
    throw new DomainError('not_implemented', 'creating channels is not implemented in v1');
  }

  private async listChatsOf(
    kind: ChatKind,
    principal: Principal,
    sessionId: string,
    query: PageQueryDto,
  ): Promise<ChatListResponse> {
    const codec = await this.cursors();
    const scope = `${kind}s\u0000${sessionId}`;
    const after =
      query.cursor === undefined ? null : codec.decode(scope, query.cursor, readChatPosition);
    await this.requireSession(principal, sessionId);
    const page = await this.messages.chats(
      principal.organizationId,
      sessionId,
      kind,
      query.limit ?? DEFAULT_LIMIT,
      after,
    );
    return {
      items: page.items.map((c) => ChatResponse.from(c)),
      nextCursor: page.next
        ? codec.encode(scope, { t: page.next.timestamp, j: page.next.jid })
        : '',
    };
  }

  private async listMessagesOf(
    kind: ChatKind,
    principal: Principal,
    sessionId: string,
    jid: string,
    query: PageQueryDto,
  ): Promise<MessageListResponse> {
    const codec = await this.cursors();
    const scope = `${kind}\u0000${sessionId}\u0000${jid}`;
    const after =
      query.cursor === undefined ? null : codec.decode(scope, query.cursor, readMessagePosition);
    await this.requireSession(principal, sessionId);
    const orgId = principal.organizationId;
    if (kind === 'channel' && !(await this.messages.knows(orgId, sessionId, jid, 'channel')))
      throw notFound('channel');
    const page = await this.messages.page(
      orgId,
      sessionId,
      jid,
      query.limit ?? DEFAULT_LIMIT,
      after,
    );
    return {
      items: page.items.map((m) => MessageResponse.from(m)),
      nextCursor: page.next
        ? codec.encode(scope, { t: page.next.timestamp, r: page.next.rowId })
        : '',
    };
  }

  private async requireSession(principal: Principal, sessionId: string): Promise<void> {
    if (!(await this.sessions.findOne(principal.organizationId, sessionId)))
      throw notFound('session');
  }

  /** The signing key every replica shares (made by the migration). */
  private cursors(): Promise<CursorCodec> {
    this.codec ??= this.dataSource
      .query(`SELECT value FROM api_secrets WHERE name = 'cursor'`)
      .then((rows: { value: string }[]) => {
        if (!rows[0]) throw new Error('the cursor signing key is missing (api_secrets)');
        return new CursorCodec(Buffer.from(rows[0].value, 'utf8'));
      });
    this.codec.catch(() => (this.codec = null));
    return this.codec;
  }
}
