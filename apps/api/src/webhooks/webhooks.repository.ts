import { Inject, Injectable } from '@nestjs/common';
import { isId } from '@wagw/domain';
import { WebhookDeliveryEntity, WebhookEntity } from '@wagw/persistence';
import { DataSource, type Repository } from 'typeorm';
import { entityFromRaw } from '../common/raw-entity.js';

export type WebhookPatch = Partial<
  Pick<WebhookEntity, 'url' | 'eventTypes' | 'sessionId' | 'active'>
>;

/** The only place webhooks touch the database: the organization is in every query. */
@Injectable()
export class WebhooksRepository {
  private readonly repo: Repository<WebhookEntity>;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(WebhookEntity);
  }

  async insert(webhook: WebhookEntity): Promise<void> {
    await this.repo.insert(webhook);
  }

  count(organizationId: string): Promise<number> {
    return this.repo.countBy({ organizationId });
  }

  list(organizationId: string): Promise<WebhookEntity[]> {
    return this.repo.find({ where: { organizationId }, order: { id: 'ASC' } });
  }

  async findOne(organizationId: string, id: string): Promise<WebhookEntity | null> {
    if (!isId(id)) return null;
    return this.repo.findOneBy({ organizationId, id });
  }

  /**
   * Returns the updated row, or null when there is none in this organization. Switching a
   * webhook on clears what the API recorded when it switched it off.
   */
  async update(
    organizationId: string,
    id: string,
    patch: WebhookPatch,
  ): Promise<WebhookEntity | null> {
    if (!isId(id)) return null;
    const reenable = patch.active === true ? { disabledReason: null, failingSince: null } : {};
    const result = await this.repo
      .createQueryBuilder()
      .update(WebhookEntity)
      .set({ ...patch, ...reenable, updatedAt: () => 'now()' })
      .where('organization_id = :organizationId AND id = :id', { organizationId, id })
      .returning('*')
      .execute();
    return this.first(result.raw as Record<string, unknown>[]);
  }

  /**
   * A new secret signs from now on; the current one goes on signing beside it until the grace
   * period ends (none: it stops at once).
   */
  async rotateSecret(
    organizationId: string,
    id: string,
    secret: string,
    graceMs: number,
  ): Promise<WebhookEntity | null> {
    if (!isId(id)) return null;
    // TypeORM answers an UPDATE with [rows, count].
    const [rows]: [Record<string, unknown>[], number] = await this.dataSource.query(
      `UPDATE webhooks SET
         previous_secret = CASE WHEN $4::bigint > 0 THEN secret END,
         previous_secret_expires_at = CASE WHEN $4::bigint > 0
           THEN now() + $4::bigint * interval '1 millisecond' END,
         secret = $3, updated_at = now()
       WHERE organization_id = $1 AND id = $2
       RETURNING *`,
      [organizationId, id, secret, graceMs],
    );
    return this.first(rows);
  }

  /** Removes the webhook and every delivery of it (queued ones and dead letters) at once. */
  async delete(organizationId: string, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(WebhookEntity, { organizationId, id });
      if ((result.affected ?? 0) === 0) return false;
      await manager.delete(WebhookDeliveryEntity, { webhookId: id });
      return true;
    });
  }

  private first(rows: Record<string, unknown>[]): WebhookEntity | null {
    return rows[0] ? entityFromRaw(this.repo, rows[0]) : null;
  }
}
