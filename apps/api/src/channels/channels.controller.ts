import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@wagw/domain';
import { CurrentPrincipal, RequireCapability } from '../auth/auth.decorators.js';
import { ChatListResponse, MessageListResponse } from '../messages/dto/message.response.js';
import { PageQueryDto } from '../messages/dto/page-query.dto.js';
import { StoredMessagesService } from '../messages/stored-messages.service.js';
import { ApiErrors, ApiOk } from '../openapi/api-responses.decorator.js';

/** The eventual contract of channel creation (v1 never answers it). */
export class ChannelCreatedResponse {
  @ApiProperty({ example: '120363000000000001@newsletter' }) jid!: string;
}

@ApiTags('Channels')
@ApiBearerAuth()
@Controller('sessions')
@RequireCapability('send')
export class ChannelsController {
  constructor(@Inject(StoredMessagesService) private readonly stored: StoredMessagesService) {}

  /** The body (`name`, `description`) is accepted and ignored: v1 never creates a channel. */
  @Post(':session/channels')
  @HttpCode(501)
  @ApiOperation({ summary: 'Create a channel (newsletter): not implemented in v1, always 501' })
  @ApiOk(201, ChannelCreatedResponse)
  @ApiErrors(401, 403, 404, 501)
  create(@CurrentPrincipal() principal: Principal, @Param('session') id: string): Promise<never> {
    return this.stored.createChannel(principal, id);
  }

  @Get(':session/channels')
  @ApiOperation({
    summary: 'Channels the session knows, most recently active first, with their last post',
  })
  @ApiOk(200, ChatListResponse)
  @ApiErrors(400, 401, 403, 404)
  list(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Query() query: PageQueryDto,
  ): Promise<ChatListResponse> {
    return this.stored.listChannels(principal, id, query);
  }

  @Get(':session/channels/:jid/messages')
  @ApiOperation({ summary: 'Stored posts of a channel, newest first; 404 for an unknown channel' })
  @ApiOk(200, MessageListResponse)
  @ApiErrors(400, 401, 403, 404)
  messages(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Param('jid') jid: string,
    @Query() query: PageQueryDto,
  ): Promise<MessageListResponse> {
    return this.stored.listChannelMessages(principal, id, jid, query);
  }
}
