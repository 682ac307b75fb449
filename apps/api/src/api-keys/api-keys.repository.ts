import { Inject, Injectable } from '@nestjs/common';
import { ApiKeyEntity } from '@wagw/persistence';
import { DataSource, type Repository } from 'typeorm';

export const API_KEY_REVOKED_CHANNEL = 'api_key_revoked';

/** The only place API keys touch the database; the organization is part of every query. */
@Injectable()
export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  async insert(key: ApiKeyEntity): Promise<void> {
    await this.repo.insert(key);
  }

  listByOrganization(organizationId: string): Promise<ApiKeyEntity[]> {
    return this.repo.find({ where: { organizationId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  findOne(organizationId: string, id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({ where: { organizationId, id } });
  }

  /** Authentication lookup by the public prefix: across organizations by design (the key says which). */
  findActiveByPrefix(prefix: string): Promise<ApiKeyEntity | null> {
    return this.repo
      .createQueryBuilder('k')
      .where('k.prefix = :prefix AND k.revoked_at IS NULL', { prefix })
      .getOne();
  }

  /**
   * Revokes and notifies every API replica in the same transaction (delivered on commit).
   * `organizationId: null` is the operator CLI, which works across organizations.
   */
  async revoke(organizationId: string | null, id: string): Promise<ApiKeyEntity | null> {
    return this.dataSource.transaction(async (manager) => {
      const update = manager
        .createQueryBuilder()
        .update(ApiKeyEntity)
        .set({ revokedAt: () => 'COALESCE(revoked_at, now())' })
        .where('id = :id', { id });
      if (organizationId !== null)
        update.andWhere('organization_id = :organizationId', { organizationId });
      const result = await update.returning('id').execute();
      if ((result.affected ?? 0) === 0) return null;
      await manager.query('SELECT pg_notify($1, $2)', [API_KEY_REVOKED_CHANNEL, id]);
      return manager.getRepository(ApiKeyEntity).findOneByOrFail({ id });
    });
  }

  /** One statement for a whole batch of usage marks; never moves `last_used_at` backwards. */
  async markUsed(marks: ReadonlyMap<string, Date>): Promise<void> {
    if (marks.size === 0) return;
    await this.dataSource.query(
      `UPDATE api_keys k SET last_used_at = u.t
         FROM unnest($1::text[], $2::timestamptz[]) AS u(id, t)
        WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.t)`,
      [[...marks.keys()], [...marks.values()].map((d) => d.toISOString())],
    );
  }
}
