import { ApiProperty } from '@nestjs/swagger';
import { CAPABILITIES, type Capability } from '@wagw/domain';
import type { ApiKeyEntity } from '@wagw/persistence';

const ms = (d: Date | null): number | null => (d ? d.getTime() : null);

export class ApiKeyResponse {
  @ApiProperty({ example: '01J9ZX8K2QHV0M3T6R7P4N5W8C' }) id: string;
  @ApiProperty() organizationId: string;
  @ApiProperty() name: string;
  @ApiProperty({
    description: 'Public part of the token, for recognising a key',
    example: '3f9a0c1d2e4b5a69',
  })
  prefix: string;
  @ApiProperty({ enum: CAPABILITIES, isArray: true }) capabilities: Capability[];
  @ApiProperty() createdByUserId: string;
  @ApiProperty({ type: 'integer', description: 'ms since epoch' }) createdAt: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'ms since epoch; updated in batches',
  })
  lastUsedAt: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'ms since epoch' }) revokedAt:
    number | null;

  static from(key: ApiKeyEntity): ApiKeyResponse {
    return {
      capabilities: key.capabilities,
      createdAt: key.createdAt.getTime(),
      createdByUserId: key.createdByUserId,
      id: key.id,
      lastUsedAt: ms(key.lastUsedAt),
      name: key.name,
      organizationId: key.organizationId,
      prefix: key.prefix,
      revokedAt: ms(key.revokedAt),
    };
  }
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({
    description: 'The bearer token. Shown once, never again.',
    example: 'wagw_3f9a0c1d2e4b5a69_...',
  })
  secret: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ type: [ApiKeyResponse] }) items: ApiKeyResponse[];
  @ApiProperty({ type: String, nullable: true, example: null }) nextCursor: string | null;
}
