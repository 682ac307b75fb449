import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Commands, type MessageContent, type OutboundMedia } from '@wagw/contracts';
import {
  DomainError,
  failedPrecondition,
  notFound,
  type Principal,
  rateLimited,
  unavailable,
  validationError,
} from '@wagw/domain';
import { ApiConfig } from '../config/api-config.js';
import { FleetCommands } from '../fleet/fleet-commands.service.js';
import { isHeld } from '../sessions/session-lifecycle.service.js';
import { type SessionRecord, SessionsRepository } from '../sessions/sessions.repository.js';
import { CONTENT_FIELDS, type MediaDto, type SendMessageDto } from './dto/send-message.dto.js';
import type { SentMessageResponse } from './dto/message.response.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { MediaFetcher, MediaFetchError } from './media-fetcher.js';
import { MessagesRepository } from './messages.repository.js';
import { normaliseJid } from './recipient.js';
import { SendRateLimiter } from './send-rate.limiter.js';

const IDEMPOTENCY_WAIT_MS = 100;

const fieldError = (field: string, reason: string): DomainError =>
  validationError(`${field}: ${reason}`, { fields: { [field]: [reason] } });

/** What a validated request sends before its media is resolved. */
interface Outbound {
  to: string;
  content: MessageContent | { type: 'media-url'; kind: MediaKind; dto: MediaDto };
  replyTo: string | null;
  mentions: string[];
}
type MediaKind = 'image' | 'video' | 'audio' | 'document';

/**
 * `POST /sessions/{session}/messages`: checks in the contract's order (400 → 404 → 409 → 429),
 * then hands the message to the session's holder by request/reply and records it. A retry
 * with the same `Idempotency-Key` gets the first result; only accepted sends count against
 * the session's rates.
 */
@Injectable()
export class MessageSenderService {
  private readonly allowedMime: string[];

  constructor(
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(MessagesRepository) private readonly messages: MessagesRepository,
    @Inject(SendRateLimiter) private readonly rates: SendRateLimiter,
    @Inject(IdempotencyRepository) private readonly idempotency: IdempotencyRepository,
    @Inject(FleetCommands) private readonly fleet: FleetCommands,
    @Inject(MediaFetcher) private readonly media: MediaFetcher,
    @Inject(ApiConfig) private readonly config: ApiConfig,
  ) {
    this.allowedMime = config.MEDIA_ALLOWED_MIME_TYPES.split(',')
      .map((m) => m.trim().toLowerCase())
      .filter((m) => m.length > 0);
  }

  async send(
    principal: Principal,
    sessionId: string,
    dto: SendMessageDto,
    idempotencyKey: string | undefined,
  ): Promise<SentMessageResponse> {
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey))
      throw fieldError('Idempotency-Key', 'must be 1-255 visible ASCII characters');
    const outbound = this.validate(dto);
    const orgId = principal.organizationId;
    const session = await this.sessions.findOne(orgId, sessionId);
    if (!session) throw notFound('session');

    if (idempotencyKey === undefined) return this.sendOnce(principal, session, outbound);
    const requestHash = createHash('sha256').update(JSON.stringify(dto)).digest('base64url');
    const deadline = Date.now() + this.config.SEND_TIMEOUT_MS + this.config.MEDIA_FETCH_TIMEOUT_MS;
    for (;;) {
      const claim = await this.idempotency.claim(
        orgId,
        sessionId,
        idempotencyKey,
        requestHash,
        this.config.IDEMPOTENCY_TTL_MS,
      );
      if (claim.kind !== 'new' && claim.requestHash !== requestHash) {
        throw fieldError('Idempotency-Key', 'was used for a different request');
      }
      if (claim.kind === 'done') return claim.response as SentMessageResponse;
      if (claim.kind === 'new') break;
      // The first request with this key is still being sent: wait for its result.
      if (Date.now() >= deadline)
        throw failedPrecondition('a request with this Idempotency-Key is still in progress', {
          reason: 'idempotency_in_progress',
        });
      await new Promise((r) => setTimeout(r, IDEMPOTENCY_WAIT_MS));
    }
    try {
      const current = await this.sessions.findOne(orgId, sessionId);
      if (!current) throw notFound('session');
      const result = await this.sendOnce(principal, current, outbound);
      await this.idempotency.complete(orgId, sessionId, idempotencyKey, result);
      return result;
    } catch (error) {
      await this.idempotency.release(orgId, sessionId, idempotencyKey);
      throw error;
    }
  }

  private async sendOnce(
    principal: Principal,
    session: SessionRecord,
    outbound: Outbound,
  ): Promise<SentMessageResponse> {
    const orgId = principal.organizationId;
    const sessionId = session.id;
    if (session.status !== 'working' || !isHeld(session))
      throw failedPrecondition(`the session is not working (it is ${session.status})`, {
        reason: 'not_working',
        status: session.status,
      });
    const decision = await this.rates.take(orgId, sessionId);
    if (!decision) throw notFound('session');
    if (!decision.ok) {
      throw rateLimited(
        `the session's send rate is exhausted (${decision.limit} per ${decision.window}); retry after ${decision.retryAfterSeconds} s`,
        {
          reason: decision.window === 'minute' ? 'rate_per_min' : 'rate_per_hour',
          limit: decision.limit,
          retryAfterSeconds: decision.retryAfterSeconds,
        },
      );
    }
    try {
      const content = await this.resolveContent(outbound);
      const reply = await this.fleet.request(
        Commands.sendMessage,
        {
          sessionId,
          to: outbound.to,
          content,
          replyTo: outbound.replyTo,
          mentions: outbound.mentions,
        },
        { gatewayId: session.gatewayId!, timeoutMs: this.config.SEND_TIMEOUT_MS },
      );
      if (!reply.ok) {
        switch (reply.reason) {
          case 'not_connected':
            throw failedPrecondition(`the session is not working: ${reply.message}`, {
              reason: 'not_working',
            });
          case 'unsupported':
            throw new DomainError('not_implemented', reply.message, {
              reason: 'unsupported_content',
            });
          case 'invalid':
            throw validationError(reply.message);
          case 'not_owner':
          case 'no_capacity':
          case 'not_paired':
          case 'paired':
          case 'failed':
            // The holder changed under us, or the network refused: nothing was sent.
            throw unavailable(`the gateway could not send the message (${reply.message}); retry`);
        }
      }
      await this.messages.store([
        {
          organizationId: orgId,
          sessionId,
          id: reply.id,
          chatJid: reply.chatJid,
          senderJid: session.waJid,
          fromMe: true,
          timestamp: reply.timestamp,
          type: content.type,
          text: textOf(content),
          media:
            'media' in content
              ? {
                  mimetype: content.media.mimetype,
                  filename: content.media.filename,
                  size: Buffer.byteLength(content.media.base64, 'base64'),
                  // As the gateway reports it (hex): whichever record lands first, it is the same.
                  sha256: createHash('sha256')
                    .update(Buffer.from(content.media.base64, 'base64'))
                    .digest('hex'),
                }
              : null,
          replyTo: outbound.replyTo,
          status: 'sent',
          raw: null,
        },
      ]);
      return { id: reply.id, chatJid: reply.chatJid, timestamp: reply.timestamp, status: 'sent' };
    } catch (error) {
      await this.rates.giveBack(sessionId, decision.slotId);
      throw error;
    }
  }

  /** Exactly one content, `to` and mentions as JIDs, media rules: all before any lookup. */
  private validate(dto: SendMessageDto): Outbound {
    const present = CONTENT_FIELDS.filter((f) => dto[f] !== undefined);
    if (present.length !== 1) {
      throw validationError('a message carries exactly one content', {
        fields: Object.fromEntries(
          (present.length === 0 ? CONTENT_FIELDS : present).map((f) => [
            f,
            [`exactly one of ${CONTENT_FIELDS.join(', ')} is required`],
          ]),
        ),
      });
    }
    const to = normaliseJid(dto.to, 'to');
    const mentions = (dto.mentions ?? []).map((m, i) => normaliseJid(m, `mentions[${i}]`));
    const base = { to, replyTo: dto.replyTo ?? null, mentions };
    const field = present[0]!;
    switch (field) {
      case 'text':
        return { ...base, content: { type: 'text', text: dto.text! } };
      case 'image':
      case 'video':
      case 'audio':
      case 'document': {
        const media = dto[field]!;
        if ((media.url === undefined) === (media.base64 === undefined))
          throw fieldError(field, 'exactly one of url or base64 is required');
        const mimetype = media.mimetype.toLowerCase();
        if (
          !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(mimetype) ||
          !this.mimeAllowed(mimetype)
        )
          throw fieldError(`${field}.mimetype`, 'this MIME type is not allowed');
        if (media.url !== undefined) {
          const refusal = this.media.refusal(media.url);
          if (refusal !== null) throw fieldError(`${field}.url`, refusal);
          return { ...base, content: { type: 'media-url', kind: field, dto: media } };
        }
        const base64 = media.base64!;
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0)
          throw fieldError(`${field}.base64`, 'must be base64');
        if (Buffer.byteLength(base64, 'base64') > this.config.MEDIA_MAX_BYTES)
          throw fieldError(`${field}.base64`, `larger than ${this.config.MEDIA_MAX_BYTES} bytes`);
        return { ...base, content: { type: field, media: outboundMedia(media, base64, mimetype) } };
      }
      case 'location': {
        const l = dto.location!;
        return {
          ...base,
          content: {
            type: 'location',
            latitude: l.latitude,
            longitude: l.longitude,
            name: l.name ?? null,
            address: l.address ?? null,
          },
        };
      }
      case 'contact':
        return {
          ...base,
          content: {
            type: 'contact',
            displayName: dto.contact!.displayName,
            vcard: dto.contact!.vcard,
          },
        };
      case 'reaction':
        return {
          ...base,
          content: {
            type: 'reaction',
            messageId: dto.reaction!.messageId,
            emoji: dto.reaction!.emoji,
          },
        };
    }
  }

  private async resolveContent(outbound: Outbound): Promise<MessageContent> {
    const content = outbound.content;
    if (content.type !== 'media-url') return content;
    const field = content.kind;
    let fetched: { bytes: Buffer; contentType: string | null };
    try {
      fetched = await this.media.fetch(content.dto.url!);
    } catch (error) {
      if (error instanceof MediaFetchError) throw fieldError(`${field}.url`, error.message);
      throw error;
    }
    const mimetype = content.dto.mimetype.toLowerCase();
    return {
      type: field,
      media: outboundMedia(content.dto, fetched.bytes.toString('base64'), mimetype),
    };
  }

  private mimeAllowed(mimetype: string): boolean {
    return this.allowedMime.some((m) =>
      m.endsWith('*') ? mimetype.startsWith(m.slice(0, -1)) : m === mimetype,
    );
  }
}

const outboundMedia = (dto: MediaDto, base64: string, mimetype: string): OutboundMedia => ({
  base64,
  mimetype,
  filename: dto.filename ?? null,
  caption: dto.caption ?? null,
});

function textOf(content: MessageContent): string | null {
  switch (content.type) {
    case 'text':
      return content.text;
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
      return content.media.caption;
    case 'reaction':
      return content.emoji;
    case 'location':
      return content.name;
    case 'contact':
      return content.displayName;
  }
}
