import { Inject, Injectable } from '@nestjs/common';
import { type Principal, unauthorized } from '@wagw/domain';
import { ApiKeyCache } from './api-key-cache.js';
import { parseApiKeyToken, secretMatches } from './api-key-secret.js';
import { ApiKeyUsageTracker } from './api-key-usage.tracker.js';
import { ApiKeysRepository } from './api-keys.repository.js';

@Injectable()
export class ApiKeyAuthenticator {
  constructor(
    @Inject(ApiKeysRepository) private readonly repository: ApiKeysRepository,
    @Inject(ApiKeyCache) private readonly cache: ApiKeyCache,
    @Inject(ApiKeyUsageTracker) private readonly usage: ApiKeyUsageTracker,
  ) {}

  async authenticate(token: string): Promise<Principal> {
    const parsed = parseApiKeyToken(token);
    if (!parsed) throw unauthorized('invalid API key');
    let key = this.cache.get(parsed.prefix);
    if (!key) {
      const generation = this.cache.generation;
      const row = await this.repository.findActiveByPrefix(parsed.prefix);
      if (!row) throw unauthorized('invalid API key');
      key = {
        id: row.id,
        organizationId: row.organizationId,
        capabilities: row.capabilities,
        secretHash: row.secretHash,
        cachedAt: 0,
      };
      this.cache.put(parsed.prefix, key, generation);
    }
    if (!secretMatches(parsed.secret, key.secretHash)) throw unauthorized('invalid API key');
    this.usage.record(key.id);
    return {
      kind: 'api_key',
      organizationId: key.organizationId,
      actorId: `apikey:${key.id}`,
      capabilities: new Set(key.capabilities),
      apiKeyId: key.id,
    };
  }
}
