import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `claimed_by`: the gateway whose claim set the row's `epoch`. Unlike `owner_id` it survives a
 * release, so the API can still fold the holder's last events (a stop is released before its
 * `stopped` event is folded) and refuse anyone else's, held or not.
 */
export class SessionClaimedBy1763800000000 implements MigrationInterface {
  name = 'SessionClaimedBy1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sessions" ADD "claimed_by" text`);
    // Leases held across the upgrade: their holder is in the owner id (`<gatewayId>/<nonce>`).
    await q.query(
      `UPDATE "sessions" SET "claimed_by" = split_part("owner_id", '/', 1) WHERE "owner_id" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sessions" DROP "claimed_by"`);
  }
}
