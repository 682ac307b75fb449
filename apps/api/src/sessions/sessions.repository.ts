import { Inject, Injectable } from '@nestjs/common';
import { isId } from '@wagw/domain';
import { SessionEntity } from '@wagw/persistence';
import { DataSource, type Repository } from 'typeorm';

export type SessionPatch = Partial<
  Pick<SessionEntity, 'label' | 'autoRead' | 'presenceTyping' | 'ratePerMin' | 'ratePerHour'>
>;

/** The only place sessions touch the database: the organization is in every query. */
@Injectable()
export class SessionsRepository {
  private readonly repo: Repository<SessionEntity>;

  constructor(@Inject(DataSource) dataSource: DataSource) {
    this.repo = dataSource.getRepository(SessionEntity);
  }

  async insert(session: SessionEntity): Promise<void> {
    await this.repo.insert(session);
  }

  findOne(organizationId: string, id: string): Promise<SessionEntity | null> {
    // A malformed id names no session; it must not reach the char(26) column as an error.
    if (!isId(id)) return Promise.resolve(null);
    return this.repo.findOne({ where: { organizationId, id } });
  }

  list(organizationId: string): Promise<SessionEntity[]> {
    return this.repo.find({ where: { organizationId }, order: { id: 'ASC' } });
  }

  /** Returns the updated row, or null when there is none in this organization. */
  async update(
    organizationId: string,
    id: string,
    patch: SessionPatch,
  ): Promise<SessionEntity | null> {
    if (!isId(id)) return null;
    const result = await this.repo
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ ...patch, updatedAt: () => 'now()' })
      .where('organization_id = :organizationId AND id = :id', { organizationId, id })
      .returning('*')
      .execute();
    const row = (result.raw as Record<string, unknown>[])[0];
    return row ? this.repo.create(this.fromRaw(row)) : null;
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    const result = await this.repo.delete({ organizationId, id });
    return (result.affected ?? 0) > 0;
  }

  private fromRaw(row: Record<string, unknown>): Partial<SessionEntity> {
    const meta = this.repo.metadata;
    return Object.fromEntries(meta.columns.map((c) => [c.propertyName, row[c.databaseName]]));
  }
}
