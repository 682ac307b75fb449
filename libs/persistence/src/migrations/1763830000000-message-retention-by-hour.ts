import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retention purge finds expired messages by the hour they were sent in, not by their
 * timestamp: an index on `timestamp` alone also matched the pages' `ORDER BY timestamp DESC`,
 * and for a chat holding most of the table Postgres read its first page through it, filtering
 * every newer message of every other chat on the way (a first page in O(table)). An index on
 * the hour cannot order a page, so pages always read `messages_page_idx`.
 */
export class MessageRetentionByHour1763830000000 implements MigrationInterface {
  name = 'MessageRetentionByHour1763830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "messages_retention_idx"`);
    await q.query(
      `CREATE INDEX "messages_retention_hour_idx" ON "messages" (("timestamp" / 3600000))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "messages_retention_hour_idx"`);
    await q.query(`CREATE INDEX "messages_retention_idx" ON "messages" ("timestamp")`);
  }
}
