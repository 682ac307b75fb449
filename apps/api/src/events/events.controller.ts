import { Controller, Get, Headers, Inject, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal } from '@wagw/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, RequireCapability } from '../auth/auth.decorators.js';
import { ApiErrors } from '../openapi/api-responses.decorator.js';
import { EventsQueryDto } from './dto/events-query.dto.js';
import { EventsService } from './events.service.js';

const STREAM_DOC = [
  'Server-Sent Events of the organization. Each event: `id: <position>` and `data: <JSON>`',
  '`{ id, type, organizationId, sessionId, occurredAt, data }`. The position is durable and the',
  'same on every API replica: reconnect with `Last-Event-ID` (or `?lastEventId=`) to resume',
  'right after it, with nothing missed or repeated.',
  '',
  'Also on the stream: a comment (`: keep-alive`) every 15 s; `event: resync` first, when the',
  'position is older than the retention (`reason: position_expired`) or unknown',
  '(`position_unknown`): re-read state, then carry on (its `id` is where the stream resumes);',
  '`event: disconnect` last, when the server ends the stream (`reason: slow_consumer`,',
  '`shutdown`, `credentials_revoked`, `unavailable`): reconnect with Last-Event-ID.',
].join('\n');

@ApiTags('Events')
@ApiBearerAuth()
@Controller('events')
@RequireCapability('manage', 'send')
export class EventsController {
  constructor(@Inject(EventsService) private readonly events: EventsService) {}

  @Get()
  @ApiOperation({ summary: "The organization's events, live (SSE)", description: STREAM_DOC })
  @ApiProduces('text/event-stream')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id',
  })
  @ApiResponse({
    status: 200,
    description: 'success: an endless text/event-stream',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(400, 401, 403, 404)
  stream(
    @CurrentPrincipal() principal: Principal,
    @Query() query: EventsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.events.open(principal, query, lastEventId, request, reply);
  }
}
