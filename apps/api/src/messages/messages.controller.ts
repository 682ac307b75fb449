import { Body, Controller, Get, Headers, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@wagw/domain';
import { CurrentPrincipal, RequireCapability } from '../auth/auth.decorators.js';
import { ApiErrors, ApiOk } from '../openapi/api-responses.decorator.js';
import {
  ChatListResponse,
  MessageListResponse,
  SentMessageResponse,
} from './dto/message.response.js';
import { PageQueryDto } from './dto/page-query.dto.js';
import { SendMessageDto } from './dto/send-message.dto.js';
import { MessageSenderService } from './message-sender.service.js';
import { StoredMessagesService } from './stored-messages.service.js';

@ApiTags('Messages')
@ApiBearerAuth()
@Controller('sessions')
@RequireCapability('send')
export class MessagesController {
  constructor(
    @Inject(MessageSenderService) private readonly sender: MessageSenderService,
    @Inject(StoredMessagesService) private readonly stored: StoredMessagesService,
  ) {}

  @Post(':session/messages')
  @ApiOperation({ summary: 'Send a message (exactly one content) through the session' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'A retry with the same key returns the first result instead of sending again',
  })
  @ApiOk(201, SentMessageResponse)
  @ApiErrors(400, 401, 403, 404, 409, 413, 429, 501, 503)
  send(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Body() dto: SendMessageDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<SentMessageResponse> {
    return this.sender.send(principal, id, dto, idempotencyKey);
  }

  @Get(':session/chats')
  @ApiOperation({
    summary: 'Chats of the session, most recently active first, with their last message',
  })
  @ApiOk(200, ChatListResponse)
  @ApiErrors(400, 401, 403, 404)
  chats(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Query() query: PageQueryDto,
  ): Promise<ChatListResponse> {
    return this.stored.listChats(principal, id, query);
  }

  @Get(':session/chats/:jid/messages')
  @ApiOperation({ summary: 'Stored messages of a chat, newest first' })
  @ApiOk(200, MessageListResponse)
  @ApiErrors(400, 401, 403, 404)
  chatMessages(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Param('jid') jid: string,
    @Query() query: PageQueryDto,
  ): Promise<MessageListResponse> {
    return this.stored.listChatMessages(principal, id, jid, query);
  }
}
