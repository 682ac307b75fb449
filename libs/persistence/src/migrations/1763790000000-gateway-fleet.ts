import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GatewayFleet1763790000000 implements MigrationInterface {
  name = 'GatewayFleet1763790000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "sessions"
        ADD "owner_id" text,
        ADD "epoch" bigint NOT NULL DEFAULT 0,
        ADD "lease_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        ADD "qr" text,
        ADD "qr_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        ADD "status_reason" text,
        ADD "status_epoch" bigint NOT NULL DEFAULT 0,
        ADD "status_seq" bigint NOT NULL DEFAULT 0`);
    await q.query(
      `CREATE INDEX "sessions_claimable_idx" ON "sessions" ("lease_expires_at") WHERE desired_state = 'running'`,
    );
    await q.query(
      `CREATE INDEX "sessions_owner_idx" ON "sessions" ("owner_id") WHERE owner_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE "gateways" (
        "id" text NOT NULL,
        "owner_id" text NOT NULL,
        "capacity" integer NOT NULL,
        "sessions_held" integer NOT NULL DEFAULT 0,
        "draining" boolean NOT NULL DEFAULT false,
        "started_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "last_seen_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_gateways" PRIMARY KEY ("id")
      )`);
    await q.query(`
      CREATE TABLE "wa_auth_creds" (
        "session_id" character(26) NOT NULL,
        "data" bytea NOT NULL,
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_wa_auth_creds" PRIMARY KEY ("session_id")
      )`);
    await q.query(`
      CREATE TABLE "wa_auth_keys" (
        "session_id" character(26) NOT NULL,
        "type" text NOT NULL,
        "key_id" text NOT NULL,
        "data" bytea NOT NULL,
        CONSTRAINT "PK_wa_auth_keys" PRIMARY KEY ("session_id", "type", "key_id")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "wa_auth_keys"`);
    await q.query(`DROP TABLE "wa_auth_creds"`);
    await q.query(`DROP TABLE "gateways"`);
    await q.query(`DROP INDEX "sessions_owner_idx"`);
    await q.query(`DROP INDEX "sessions_claimable_idx"`);
    await q.query(`
      ALTER TABLE "sessions" DROP "owner_id", DROP "epoch", DROP "lease_expires_at", DROP "qr",
        DROP "qr_expires_at", DROP "status_reason", DROP "status_epoch", DROP "status_seq"`);
  }
}
