import { Inject, Injectable } from '@nestjs/common';
import {
  failedPrecondition,
  newId,
  notFound,
  type Principal,
  rateLimited,
  validationError,
} from '@wagw/domain';
import { WebhookEntity } from '@wagw/persistence';
import type { EventStream } from '@wagw/messaging';
import { ApiConfig } from '../config/api-config.js';
import { EVENT_STREAM } from '../messaging/messaging.tokens.js';
import { SessionsRepository } from '../sessions/sessions.repository.js';
import type {
  CreateWebhookDto,
  DeliveriesQueryDto,
  RotateSecretDto,
  UpdateWebhookDto,
} from './dto/webhook.dto.js';
import {
  WebhookDeliveryListResponse,
  WebhookDeliveryResponse,
  WebhookListResponse,
  WebhookResponse,
  type WebhookWithSecretResponse,
} from './dto/webhook.response.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { generateWebhookSecret } from './webhook-signature.js';
import { WebhookUrlValidator } from './webhook-url.validator.js';
import { WebhooksRepository } from './webhooks.repository.js';

const CURSOR = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Webhook registrations and their deliveries, always within the caller's organization. */
@Injectable()
export class WebhooksService {
  constructor(
    @Inject(ApiConfig) private readonly config: ApiConfig,
    @Inject(WebhooksRepository) private readonly webhooks: WebhooksRepository,
    @Inject(WebhookDeliveriesRepository) private readonly deliveries: WebhookDeliveriesRepository,
    @Inject(SessionsRepository) private readonly sessions: SessionsRepository,
    @Inject(WebhookUrlValidator) private readonly urls: WebhookUrlValidator,
    @Inject(WebhookDeliveryWorker) private readonly worker: WebhookDeliveryWorker,
    @Inject(EVENT_STREAM) private readonly stream: EventStream,
  ) {}

  async create(principal: Principal, dto: CreateWebhookDto): Promise<WebhookWithSecretResponse> {
    const organizationId = principal.organizationId;
    await this.urls.assertDeliverable(dto.url);
    await this.assertSession(organizationId, dto.sessionId);
    if ((await this.webhooks.count(organizationId)) >= this.config.WEBHOOK_MAX_PER_ORG) {
      throw rateLimited(`an organization may have ${this.config.WEBHOOK_MAX_PER_ORG} webhooks`, {
        reason: 'webhook_quota',
        limit: this.config.WEBHOOK_MAX_PER_ORG,
      });
    }
    // Events from now on: whatever the stream holds already predates the webhook.
    const { lastSeq } = await this.stream.bounds();
    const now = new Date();
    const webhook = Object.assign(new WebhookEntity(), {
      id: newId(),
      organizationId,
      url: dto.url,
      eventTypes: dto.eventTypes,
      sessionId: dto.sessionId ?? null,
      active: dto.active ?? true,
      startSeq: lastSeq,
      secret: generateWebhookSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      failingSince: null,
      disabledReason: null,
      createdAt: now,
      updatedAt: now,
    });
    await this.webhooks.insert(webhook);
    return { ...WebhookResponse.from(webhook), secret: webhook.secret };
  }

  async list(principal: Principal): Promise<WebhookListResponse> {
    const webhooks = await this.webhooks.list(principal.organizationId);
    return { items: webhooks.map((w) => WebhookResponse.from(w)), nextCursor: null };
  }

  async get(principal: Principal, id: string): Promise<WebhookResponse> {
    const webhook = await this.webhooks.findOne(principal.organizationId, id);
    if (!webhook) throw notFound('webhook');
    return WebhookResponse.from(webhook);
  }

  async update(principal: Principal, id: string, dto: UpdateWebhookDto): Promise<WebhookResponse> {
    const organizationId = principal.organizationId;
    if (dto.url !== undefined) await this.urls.assertDeliverable(dto.url);
    if (!(await this.webhooks.findOne(organizationId, id))) throw notFound('webhook');
    await this.assertSession(organizationId, dto.sessionId);
    const webhook = await this.webhooks.update(organizationId, id, dto);
    if (!webhook) throw notFound('webhook');
    if (webhook.active) this.worker.wake();
    return WebhookResponse.from(webhook);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    if (!(await this.webhooks.delete(principal.organizationId, id))) throw notFound('webhook');
  }

  async rotateSecret(
    principal: Principal,
    id: string,
    dto: RotateSecretDto,
  ): Promise<WebhookWithSecretResponse> {
    const webhook = await this.webhooks.rotateSecret(
      principal.organizationId,
      id,
      generateWebhookSecret(),
      dto.gracePeriodMs ?? this.config.WEBHOOK_SECRET_GRACE_MS,
    );
    if (!webhook) throw notFound('webhook');
    return { ...WebhookResponse.from(webhook), secret: webhook.secret };
  }

  async listDeliveries(
    principal: Principal,
    id: string,
    query: DeliveriesQueryDto,
  ): Promise<WebhookDeliveryListResponse> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (!(await this.webhooks.findOne(principal.organizationId, id))) throw notFound('webhook');
    const page = await this.deliveries.list(principal.organizationId, id, {
      limit: query.limit ?? 50,
      after,
      status: query.status,
    });
    return {
      items: page.items.map((d) => WebhookDeliveryResponse.from(d)),
      nextCursor: page.next === null ? '' : encodeCursor(page.next),
    };
  }

  async redeliver(
    principal: Principal,
    id: string,
    deliveryId: string,
  ): Promise<WebhookDeliveryResponse> {
    const organizationId = principal.organizationId;
    if (!(await this.webhooks.findOne(organizationId, id))) throw notFound('webhook');
    if (!(await this.deliveries.findOne(organizationId, id, deliveryId)))
      throw notFound('delivery');
    const delivery = await this.deliveries.requeue(organizationId, id, deliveryId);
    if (!delivery) throw failedPrecondition('the delivery is still pending');
    this.worker.wake();
    return WebhookDeliveryResponse.from(delivery);
  }

  /** A session filter must name a session of the organization (404 like any other lookup). */
  private async assertSession(
    organizationId: string,
    sessionId: string | null | undefined,
  ): Promise<void> {
    if (sessionId === undefined || sessionId === null) return;
    if (!(await this.sessions.findOne(organizationId, sessionId))) throw notFound('session');
  }
}

/** Opaque to clients: the last id of the page, base64url. */
const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('latin1');
  if (!CURSOR.test(id) || encodeCursor(id) !== cursor)
    throw validationError('invalid cursor', { fields: { cursor: ['cursor is not valid'] } });
  return id;
}
