import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@wagw/domain';
import { CurrentPrincipal, RequireCapability } from '../auth/auth.decorators.js';
import { customMethod } from '../common/custom-methods.js';
import { ApiErrors, ApiOk } from '../openapi/api-responses.decorator.js';
import {
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
  WebhookWithSecretResponse,
} from './dto/webhook.response.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('Webhooks')
@ApiBearerAuth()
@Controller('webhooks')
@RequireCapability('manage')
export class WebhooksController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a webhook; the signing secret is in this response only',
    description:
      'Deliveries follow the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, ' +
      '`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). The URL must resolve ' +
      'to an address webhooks may reach (400 otherwise). 429 `webhook_quota` past WEBHOOK_MAX_PER_ORG.',
  })
  @ApiOk(201, WebhookWithSecretResponse)
  @ApiErrors(400, 401, 403, 404, 413, 429)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateWebhookDto,
  ): Promise<WebhookWithSecretResponse> {
    return this.webhooks.create(principal, dto);
  }

  @Get()
  @ApiOperation({ summary: "List the organization's webhooks (never their secrets)" })
  @ApiOk(200, WebhookListResponse)
  @ApiErrors(401, 403)
  list(@CurrentPrincipal() principal: Principal): Promise<WebhookListResponse> {
    return this.webhooks.list(principal);
  }

  @Get(':webhook')
  @ApiOperation({ summary: 'Get a webhook' })
  @ApiOk(200, WebhookResponse)
  @ApiErrors(401, 403, 404)
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('webhook') id: string,
  ): Promise<WebhookResponse> {
    return this.webhooks.get(principal, id);
  }

  @Patch(':webhook')
  @ApiOperation({
    summary: 'Change the URL, event types, session filter or active flag',
    description: '`active: true` switches back on a webhook the API disabled for failing.',
  })
  @ApiOk(200, WebhookResponse)
  @ApiErrors(400, 401, 403, 404, 413)
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('webhook') id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookResponse> {
    return this.webhooks.update(principal, id, dto);
  }

  @Delete(':webhook')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook, its queued deliveries and its dead letters' })
  @ApiOk(204)
  @ApiErrors(401, 403, 404)
  delete(@CurrentPrincipal() principal: Principal, @Param('webhook') id: string): Promise<void> {
    return this.webhooks.delete(principal, id);
  }

  @Post(customMethod('webhook', 'rotate-secret'))
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Issue a new signing secret (shown once); the old one keeps signing for a grace period',
    description:
      'During the grace period every delivery carries two signatures (`v1,<new> v1,<old>`), so ' +
      'receivers can switch secrets without losing a delivery.',
  })
  @ApiOk(200, WebhookWithSecretResponse)
  @ApiErrors(400, 401, 403, 404, 413)
  rotateSecret(
    @CurrentPrincipal() principal: Principal,
    @Param('webhook') id: string,
    @Body() dto: RotateSecretDto,
  ): Promise<WebhookWithSecretResponse> {
    return this.webhooks.rotateSecret(principal, id, dto);
  }

  @Get(':webhook/deliveries')
  @ApiOperation({
    summary: "The webhook's deliveries, newest first; `status=failed` lists the dead letters",
  })
  @ApiOk(200, WebhookDeliveryListResponse)
  @ApiErrors(400, 401, 403, 404)
  deliveries(
    @CurrentPrincipal() principal: Principal,
    @Param('webhook') id: string,
    @Query() query: DeliveriesQueryDto,
  ): Promise<WebhookDeliveryListResponse> {
    return this.webhooks.listDeliveries(principal, id, query);
  }

  @Post(`:webhook/deliveries/${customMethod('delivery', 'redeliver')}`)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Queue a dead letter (or a delivered one) again, with a fresh retry budget',
    description: '409 while the delivery is still pending.',
  })
  @ApiOk(200, WebhookDeliveryResponse)
  @ApiErrors(401, 403, 404, 409)
  redeliver(
    @CurrentPrincipal() principal: Principal,
    @Param('webhook') id: string,
    @Param('delivery') deliveryId: string,
  ): Promise<WebhookDeliveryResponse> {
    return this.webhooks.redeliver(principal, id, deliveryId);
  }
}
