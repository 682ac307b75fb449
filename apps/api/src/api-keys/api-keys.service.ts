import { Inject, Injectable } from '@nestjs/common';
import { type Capability, newId, notFound, type Principal } from '@wagw/domain';
import { ApiKeyEntity } from '@wagw/persistence';
import { ApiKeyCache } from './api-key-cache.js';
import { generateApiKeySecret } from './api-key-secret.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import {
  ApiKeyListResponse,
  ApiKeyResponse,
  CreatedApiKeyResponse,
} from './dto/api-key.response.js';
import type { CreateApiKeyDto } from './dto/create-api-key.dto.js';

export interface NewApiKey {
  organizationId: string;
  name: string;
  capabilities: Capability[];
  createdByUserId: string;
}

@Injectable()
export class ApiKeysService {
  constructor(
    @Inject(ApiKeysRepository) private readonly repository: ApiKeysRepository,
    @Inject(ApiKeyCache) private readonly cache: ApiKeyCache,
  ) {}

  create(principal: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    return this.issue({
      organizationId: principal.organizationId,
      name: dto.name,
      capabilities: dto.capabilities,
      createdByUserId: principal.actorId,
    });
  }

  /** Also used by the operator CLI, which may grant `admin`. */
  async issue(input: NewApiKey): Promise<CreatedApiKeyResponse> {
    const secret = generateApiKeySecret();
    const key = Object.assign(new ApiKeyEntity(), {
      id: newId(),
      organizationId: input.organizationId,
      name: input.name,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      capabilities: [...new Set(input.capabilities)],
      createdByUserId: input.createdByUserId,
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.repository.insert(key);
    return { ...ApiKeyResponse.from(key), secret: secret.token };
  }

  async list(principal: Principal): Promise<ApiKeyListResponse> {
    const keys = await this.repository.listByOrganization(principal.organizationId);
    return { items: keys.map((k) => ApiKeyResponse.from(k)), nextCursor: null };
  }

  async revoke(principal: Principal, id: string): Promise<void> {
    await this.revokeIn(principal.organizationId, id);
  }

  /** `organizationId: null` only from the operator CLI. Idempotent for an already revoked key. */
  async revokeIn(organizationId: string | null, id: string): Promise<ApiKeyResponse> {
    const key = await this.repository.revoke(organizationId, id);
    if (!key) throw notFound('api key');
    this.cache.evict(id);
    return ApiKeyResponse.from(key);
  }
}
