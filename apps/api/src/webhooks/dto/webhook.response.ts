import { ApiProperty } from '@nestjs/swagger';
import { PUBLIC_EVENT_TYPES, type PublicEventType } from '@wagw/contracts';
import type { WebhookDeliveryEntity, WebhookEntity } from '@wagw/persistence';
import { DELIVERY_STATUSES } from './webhook.dto.js';

const ms = (d: Date | null): number | null => (d ? d.getTime() : null);
const MS = { type: 'integer', description: 'ms since epoch' } as const;
const MS_OR_NULL = { ...MS, nullable: true } as const;

export class WebhookResponse {
  @ApiProperty({ example: '01J9ZX8K2QHV0M3T6R7P4N5W8C' }) id: string;
  @ApiProperty() organizationId: string;
  @ApiProperty({ example: 'https://example.com/hooks/whatsapp' }) url: string;
  @ApiProperty({ enum: PUBLIC_EVENT_TYPES, isArray: true }) eventTypes: PublicEventType[];
  @ApiProperty({ type: String, nullable: true }) sessionId: string | null;
  @ApiProperty() active: boolean;
  @ApiProperty({
    type: String,
    enum: ['failing'],
    nullable: true,
    description: '`failing`: the API switched it off after failing for WEBHOOK_DISABLE_AFTER_MS',
  })
  disabledReason: 'failing' | null;
  @ApiProperty({ ...MS_OR_NULL, description: 'Since when every attempt failed (null: healthy)' })
  failingSince: number | null;
  @ApiProperty({ ...MS_OR_NULL, description: 'Until when the previous secret still signs' })
  previousSecretExpiresAt: number | null;
  @ApiProperty(MS) createdAt: number;
  @ApiProperty(MS) updatedAt: number;

  static from(webhook: WebhookEntity, now = Date.now()): WebhookResponse {
    const previous = ms(webhook.previousSecretExpiresAt);
    return {
      active: webhook.active,
      createdAt: webhook.createdAt.getTime(),
      disabledReason: webhook.disabledReason === 'failing' ? 'failing' : null,
      eventTypes: webhook.eventTypes as PublicEventType[],
      failingSince: ms(webhook.failingSince),
      id: webhook.id,
      organizationId: webhook.organizationId,
      previousSecretExpiresAt: previous !== null && previous > now ? previous : null,
      sessionId: webhook.sessionId,
      updatedAt: webhook.updatedAt.getTime(),
      url: webhook.url,
    };
  }
}

export class WebhookWithSecretResponse extends WebhookResponse {
  @ApiProperty({
    description:
      'The signing secret (Standard Webhooks, `whsec_<base64>`). Shown once, never again.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret: string;
}

export class WebhookListResponse {
  @ApiProperty({ type: [WebhookResponse] }) items: WebhookResponse[];
  @ApiProperty({ type: String, nullable: true, example: null }) nextCursor: string | null;
}

export class WebhookDeliveryResponse {
  @ApiProperty({ description: 'Also the `webhook-id` header of every attempt' }) id: string;
  @ApiProperty() webhookId: string;
  @ApiProperty() eventId: string;
  @ApiProperty({ enum: PUBLIC_EVENT_TYPES }) eventType: PublicEventType;
  @ApiProperty({ type: String, nullable: true }) sessionId: string | null;
  @ApiProperty({
    enum: DELIVERY_STATUSES,
    description: '`pending`: queued or being retried; `failed`: a dead letter',
  })
  status: (typeof DELIVERY_STATUSES)[number];
  @ApiProperty({ type: 'integer' }) attempts: number;
  @ApiProperty({ type: 'integer', nullable: true }) lastStatusCode: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'ms' }) lastLatencyMs: number | null;
  @ApiProperty(MS_OR_NULL) lastAttemptAt: number | null;
  @ApiProperty({
    ...MS_OR_NULL,
    description:
      'When pending: the next attempt; null while it waits behind an earlier delivery of its session',
  })
  nextAttemptAt: number | null;
  @ApiProperty(MS) createdAt: number;
  @ApiProperty(MS_OR_NULL) deliveredAt: number | null;

  static from(d: WebhookDeliveryEntity): WebhookDeliveryResponse {
    return {
      attempts: d.attempts,
      createdAt: d.createdAt.getTime(),
      deliveredAt: ms(d.deliveredAt),
      eventId: d.eventId,
      eventType: d.eventType as PublicEventType,
      id: d.id,
      lastAttemptAt: ms(d.lastAttemptAt),
      lastError: d.lastError,
      lastLatencyMs: d.lastLatencyMs,
      lastStatusCode: d.lastStatusCode,
      nextAttemptAt: d.status === 'pending' && !d.blocked ? d.nextAttemptAt.getTime() : null,
      sessionId: d.sessionId,
      status: d.status,
      webhookId: d.webhookId,
    };
  }
}

export class WebhookDeliveryListResponse {
  @ApiProperty({ type: [WebhookDeliveryResponse] }) items: WebhookDeliveryResponse[];
  @ApiProperty({ description: 'Opaque cursor of the next page; "" on the last page' })
  nextCursor: string;
}
