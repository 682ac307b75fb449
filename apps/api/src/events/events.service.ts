import { Inject, Injectable } from '@nestjs/common';
import { isPublicEventType } from '@wagw/contracts';
import { notFound, type Principal, validationError } from '@wagw/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiConfig } from '../config/api-config.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import type { EventsQueryDto } from './dto/events-query.dto.js';
import { EventHub } from './event-hub.service.js';
import { SseClient } from './sse-client.js';
import { OPENING } from './sse-format.js';

const POSITION = /^\d{1,15}$/;

/** Opens an SSE stream: every check (400, 404) before the first byte, then the hub takes over. */
@Injectable()
export class EventsService {
  constructor(
    @Inject(ApiConfig) private readonly config: ApiConfig,
    @Inject(EventHub) private readonly hub: EventHub,
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
  ) {}

  async open(
    principal: Principal,
    query: EventsQueryDto,
    lastEventIdHeader: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const lastEventId = parsePosition(lastEventIdHeader, query.lastEventId);
    const types = parseTypes(query.types);
    const organizationId = principal.organizationId;
    if (query.sessionId && !(await this.sessions.findOne(organizationId, query.sessionId)))
      throw notFound('session');

    // From here on the response is ours, not Fastify's: no error envelope can follow.
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    response.socket?.setNoDelay(true);
    response.write(OPENING);
    const client = new SseClient(
      { organizationId, sessionId: query.sessionId ?? null, types },
      request.headers.authorization ?? '',
      response,
      this.config.SSE_CLIENT_BUFFER_BYTES,
      (closed, reason) => this.hub.detach(closed, reason),
    );
    await this.hub.attach(client, lastEventId);
  }
}

/** `Last-Event-ID` wins over `?lastEventId=` (a browser resends the header with the same URL). */
function parsePosition(header: string | undefined, query: string | undefined): number | null {
  const text = header?.trim() || query;
  if (text === undefined || text === '') return null;
  if (!POSITION.test(text))
    throw validationError('Last-Event-ID must be an event id', {
      fields: { lastEventId: ['must be an event id (digits)'] },
    });
  return Number(text);
}

function parseTypes(text: string | undefined): ReadonlySet<string> | null {
  if (text === undefined) return null;
  const types = text.split(',').map((t) => t.trim());
  const unknown = types.filter((t) => !isPublicEventType(t));
  if (unknown.length > 0 || types.length === 0)
    throw validationError(`unknown event types: ${unknown.join(', ') || '(none)'}`, {
      fields: { types: [`unknown event types: ${unknown.join(', ')}`] },
    });
  return new Set(types);
}
