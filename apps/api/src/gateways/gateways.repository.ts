import { Inject, Injectable } from '@nestjs/common';
import { GatewayEntity } from '@wagw/persistence';
import { DataSource, type Repository } from 'typeorm';

/** Gateway workers as they report themselves (platform-wide: not organization data). */
@Injectable()
export class GatewaysRepository {
  private readonly repo: Repository<GatewayEntity>;

  constructor(@Inject(DataSource) dataSource: DataSource) {
    this.repo = dataSource.getRepository(GatewayEntity);
  }

  listLive(staleAfterMs: number): Promise<GatewayEntity[]> {
    return this.repo
      .createQueryBuilder('g')
      .where(`g.last_seen_at > now() - make_interval(secs => :secs)`, { secs: staleAfterMs / 1000 })
      .orderBy('g.id')
      .getMany();
  }

  /** Marks a live gateway as draining (it sees the flag at its next heartbeat); null if unknown. */
  async setDraining(id: string, staleAfterMs: number): Promise<GatewayEntity | null> {
    const result = await this.repo
      .createQueryBuilder()
      .update(GatewayEntity)
      .set({ draining: true })
      .where(`id = :id AND last_seen_at > now() - make_interval(secs => :secs)`, {
        id,
        secs: staleAfterMs / 1000,
      })
      .execute();
    if ((result.affected ?? 0) === 0) return null;
    return this.repo.findOneBy({ id });
  }
}
