import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Messages1763820000000 implements MigrationInterface {
  name = 'Messages1763820000000';

  async up(q: QueryRunner): Promise<void> {
    // Every message in both directions and every channel post; `row_id` orders equal timestamps
    // for keyset pagination, and (session, chat, id, from_me) is WhatsApp's message key.
    await q.query(`
      CREATE TABLE "messages" (
        "row_id" BIGSERIAL NOT NULL,
        "organization_id" text NOT NULL,
        "session_id" character(26) NOT NULL,
        "chat_jid" text NOT NULL,
        "id" text NOT NULL,
        "from_me" boolean NOT NULL,
        "sender_jid" text,
        "timestamp" bigint NOT NULL,
        "type" text NOT NULL,
        "text" text,
        "media" jsonb,
        "reply_to" text,
        "status" text NOT NULL,
        "raw" jsonb,
        CONSTRAINT "PK_messages" PRIMARY KEY ("row_id")
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "messages_key" ON "messages" ("session_id", "chat_jid", "id", "from_me")`,
    );
    await q.query(
      `CREATE INDEX "messages_page_idx" ON "messages" ("session_id", "chat_jid", "timestamp", "row_id")`,
    );
    await q.query(`CREATE INDEX "messages_retention_idx" ON "messages" ("timestamp")`);
    // One row per chat or channel of a session: its last message (the chat list), and the
    // channels a session knows (followed, or seen posting).
    await q.query(`
      CREATE TABLE "chats" (
        "session_id" character(26) NOT NULL,
        "jid" text NOT NULL,
        "organization_id" text NOT NULL,
        "kind" text NOT NULL,
        "last_row_id" bigint,
        "last_timestamp" bigint,
        CONSTRAINT "PK_chats" PRIMARY KEY ("session_id", "jid")
      )`);
    await q.query(
      `CREATE INDEX "chats_list_idx" ON "chats" ("session_id", "kind", "last_timestamp", "jid")`,
    );
    // Accepted sends of the last hour: the exact sliding windows of ratePerMin / ratePerHour.
    await q.query(`
      CREATE TABLE "message_send_slots" (
        "session_id" character(26) NOT NULL,
        "slot_id" character(26) NOT NULL,
        "taken_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_message_send_slots" PRIMARY KEY ("session_id", "slot_id")
      )`);
    await q.query(
      `CREATE INDEX "message_send_slots_window_idx" ON "message_send_slots" ("session_id", "taken_at")`,
    );
    // The first result of a send per Idempotency-Key (organization-scoped).
    await q.query(`
      CREATE TABLE "message_idempotency" (
        "organization_id" text NOT NULL,
        "session_id" character(26) NOT NULL,
        "key" text NOT NULL,
        "request_hash" text NOT NULL,
        "response" jsonb,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_message_idempotency" PRIMARY KEY ("organization_id", "session_id", "key")
      )`);
    await q.query(
      `CREATE INDEX "message_idempotency_age_idx" ON "message_idempotency" ("created_at")`,
    );

    // Secrets every API replica shares, made once here: the key that signs pagination cursors.
    await q.query(`
      CREATE TABLE "api_secrets" (
        "name" text NOT NULL,
        "value" text NOT NULL,
        CONSTRAINT "PK_api_secrets" PRIMARY KEY ("name")
      )`);
    await q.query(
      `INSERT INTO "api_secrets" ("name", "value")
       VALUES ('cursor', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "api_secrets"`);
    await q.query(`DROP TABLE "message_idempotency"`);
    await q.query(`DROP TABLE "message_send_slots"`);
    await q.query(`DROP TABLE "chats"`);
    await q.query(`DROP TABLE "messages"`);
  }
}
