import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Webhooks1763810000000 implements MigrationInterface {
  name = 'Webhooks1763810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "webhooks" (
        "id" character(26) NOT NULL,
        "organization_id" text NOT NULL,
        "url" text NOT NULL,
        "event_types" text array NOT NULL,
        "session_id" character(26),
        "active" boolean NOT NULL DEFAULT true,
        "start_seq" bigint NOT NULL DEFAULT '0',
        "secret" text NOT NULL,
        "previous_secret" text,
        "previous_secret_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        "failing_since" TIMESTAMP(3) WITH TIME ZONE,
        "disabled_reason" text,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_webhooks" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "webhooks_org_idx" ON "webhooks" ("organization_id", "id")`);
    await q.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" character(26) NOT NULL,
        "webhook_id" character(26) NOT NULL,
        "organization_id" text NOT NULL,
        "event_id" text NOT NULL,
        "event_type" text NOT NULL,
        "session_id" text,
        "order_key" text NOT NULL,
        "stream_seq" bigint NOT NULL,
        "payload" text NOT NULL,
        "status" text NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT '0',
        "blocked" boolean NOT NULL DEFAULT false,
        "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "claimed_until" TIMESTAMP(3) WITH TIME ZONE,
        "last_attempt_at" TIMESTAMP(3) WITH TIME ZONE,
        "last_status_code" integer,
        "last_error" text,
        "last_latency_ms" integer,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "delivered_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY ("id")
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "webhook_deliveries_event_key" ON "webhook_deliveries" ("webhook_id", "event_id")`,
    );
    await q.query(
      `CREATE INDEX "webhook_deliveries_list_idx" ON "webhook_deliveries" ("webhook_id", "id")`,
    );
    await q.query(
      `CREATE INDEX "webhook_deliveries_queue_idx" ON "webhook_deliveries" ("webhook_id", "order_key", "stream_seq") WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("next_attempt_at") WHERE status = 'pending' AND NOT blocked`,
    );
    await q.query(
      `CREATE INDEX "webhook_deliveries_done_idx" ON "webhook_deliveries" ("created_at") WHERE status <> 'pending'`,
    );
    await q.query(`
      CREATE TABLE "webhook_intake" (
        "id" text NOT NULL,
        "cursor" bigint,
        "holder" text,
        "lease_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "PK_webhook_intake" PRIMARY KEY ("id")
      )`);
    // The one intake row; its cursor is set by the first API replica (the stream's end then).
    await q.query(`INSERT INTO "webhook_intake" ("id") VALUES ('default')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "webhook_intake"`);
    await q.query(`DROP TABLE "webhook_deliveries"`);
    await q.query(`DROP TABLE "webhooks"`);
  }
}
