import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PUBLIC_EVENT_TYPES, type PublicEventType } from '@wagw/contracts';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const URL_RULES = {
  protocols: ['http', 'https'],
  require_protocol: true,
  require_tld: false,
  allow_underscores: true,
  disallow_auth: true,
};
const URL_DOC = {
  example: 'https://example.com/hooks/whatsapp',
  maxLength: 2048,
  description:
    'http(s), no credentials. Must resolve to an address webhooks may reach: loopback, private, ' +
    'link-local and metadata addresses are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS allows them',
};
const TYPES_DOC = {
  enum: PUBLIC_EVENT_TYPES,
  isArray: true,
  example: ['session.status', 'auth.qr'],
  description: 'Event types to deliver',
};
const SESSION_DOC = {
  type: String,
  nullable: true,
  example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
  description: "Only this session's events; null (or absent) for every session",
};

/** The rules of each field, shared by creation and update. */
const IsWebhookUrl = () => applyDecorators(IsString(), MaxLength(2048), IsUrl(URL_RULES));
const AreEventTypes = () =>
  applyDecorators(
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(PUBLIC_EVENT_TYPES.length),
    ArrayUnique(),
    IsIn(PUBLIC_EVENT_TYPES, { each: true }),
  );
const IsSessionFilter = () =>
  applyDecorators(
    IsOptional(),
    ValidateIf((_o, v) => v !== null),
    IsString(),
    Matches(ULID, { message: 'sessionId must be a session id' }),
  );

export class CreateWebhookDto {
  @ApiProperty(URL_DOC)
  @IsWebhookUrl()
  url: string;

  @ApiProperty(TYPES_DOC)
  @AreEventTypes()
  eventTypes: PublicEventType[];

  @ApiPropertyOptional(SESSION_DOC)
  @IsSessionFilter()
  sessionId?: string | null;

  @ApiPropertyOptional({ default: true, description: 'false: events are not queued for it' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional(URL_DOC)
  @IsOptional()
  @IsWebhookUrl()
  url?: string;

  @ApiPropertyOptional(TYPES_DOC)
  @IsOptional()
  @AreEventTypes()
  eventTypes?: PublicEventType[];

  @ApiPropertyOptional(SESSION_DOC)
  @IsSessionFilter()
  sessionId?: string | null;

  @ApiPropertyOptional({
    description: 'true switches a webhook the API disabled back on (and clears its failure record)',
  })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class RotateSecretDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 604_800_000,
    description:
      'How long the previous secret still signs beside the new one, ms; default WEBHOOK_SECRET_GRACE_MS. 0 stops it at once',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604_800_000)
  gracePeriodMs?: number;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export class DeliveriesQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque; from the previous page' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  cursor?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, description: '`failed`: the dead letters' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: (typeof DELIVERY_STATUSES)[number];
}
