import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763780000000 implements MigrationInterface {
  name = 'InitialSchema1763780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "sessions" (
        "id" character(26) NOT NULL,
        "organization_id" text NOT NULL,
        "label" text,
        "auto_read" boolean NOT NULL DEFAULT false,
        "presence_typing" boolean NOT NULL DEFAULT false,
        "rate_per_min" integer NOT NULL DEFAULT 20,
        "rate_per_hour" integer NOT NULL DEFAULT 600,
        "status" text NOT NULL DEFAULT 'stopped',
        "desired_state" text NOT NULL DEFAULT 'stopped',
        "is_admin_session" boolean NOT NULL DEFAULT false,
        "phone_number" text,
        "wa_jid" text,
        "wa_lid" text,
        "gateway_id" text,
        "last_connected_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_by_user_id" text NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_sessions" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "sessions_org_id_idx" ON "sessions" ("organization_id", "id")`);
    await q.query(`
      CREATE TABLE "api_keys" (
        "id" character(26) NOT NULL,
        "organization_id" text NOT NULL,
        "name" text NOT NULL,
        "prefix" text NOT NULL,
        "secret_hash" bytea NOT NULL,
        "capabilities" text array NOT NULL,
        "created_by_user_id" text NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "last_used_at" TIMESTAMP(3) WITH TIME ZONE,
        "revoked_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "PK_api_keys" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys" ("prefix")`);
    await q.query(
      `CREATE INDEX "api_keys_org_idx" ON "api_keys" ("organization_id", "created_at")`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "api_keys"`);
    await q.query(`DROP TABLE "sessions"`);
  }
}
