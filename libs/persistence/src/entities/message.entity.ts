import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

const bigintAsNumber = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/** A stored message (either direction) or channel post. Written with plain SQL (upserts). */
@Entity({ name: 'messages' })
@Index('messages_key', ['sessionId', 'chatJid', 'id', 'fromMe'], { unique: true })
@Index('messages_page_idx', ['sessionId', 'chatJid', 'timestamp', 'rowId'])
// The retention purge's index is on the hour, `(timestamp / 3600000)`: an expression, made by
// its migration (an index on `timestamp` would also serve pages, badly: see that migration).
@Index('messages_retention_hour_idx', { synchronize: false })
export class MessageEntity {
  @PrimaryGeneratedColumn('increment', { name: 'row_id', type: 'bigint' })
  rowId: string;

  @Column({ name: 'organization_id', type: 'text' })
  organizationId: string;

  @Column({ name: 'session_id', type: 'char', length: 26 })
  sessionId: string;

  @Column({ name: 'chat_jid', type: 'text' })
  chatJid: string;

  @Column({ type: 'text' })
  id: string;

  @Column({ name: 'from_me', type: 'boolean' })
  fromMe: boolean;

  @Column({ name: 'sender_jid', type: 'text', nullable: true })
  senderJid: string | null;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  timestamp: number;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'text', nullable: true })
  text: string | null;

  @Column({ type: 'jsonb', nullable: true })
  media: unknown;

  @Column({ name: 'reply_to', type: 'text', nullable: true })
  replyTo: string | null;

  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'jsonb', nullable: true })
  raw: unknown;
}

/** A chat or channel of a session, with its last message. */
@Entity({ name: 'chats' })
@Index('chats_list_idx', ['sessionId', 'kind', 'lastTimestamp', 'jid'])
export class ChatEntity {
  @PrimaryColumn({ name: 'session_id', type: 'char', length: 26 })
  sessionId: string;

  @PrimaryColumn({ type: 'text' })
  jid: string;

  @Column({ name: 'organization_id', type: 'text' })
  organizationId: string;

  /** `chat` or `channel`. */
  @Column({ type: 'text' })
  kind: string;

  @Column({ name: 'last_row_id', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastRowId: number | null;

  @Column({ name: 'last_timestamp', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastTimestamp: number | null;
}

/** One accepted send in the last hour (rate limits). */
@Entity({ name: 'message_send_slots' })
@Index('message_send_slots_window_idx', ['sessionId', 'takenAt'])
export class MessageSendSlotEntity {
  @PrimaryColumn({ name: 'session_id', type: 'char', length: 26 })
  sessionId: string;

  @PrimaryColumn({ name: 'slot_id', type: 'char', length: 26 })
  slotId: string;

  @Column({ name: 'taken_at', type: 'timestamptz', precision: 3 })
  takenAt: Date;
}

/** The first result of a send, by Idempotency-Key. */
@Entity({ name: 'message_idempotency' })
@Index('message_idempotency_age_idx', ['createdAt'])
export class MessageIdempotencyEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'text' })
  organizationId: string;

  @PrimaryColumn({ name: 'session_id', type: 'char', length: 26 })
  sessionId: string;

  @PrimaryColumn({ type: 'text' })
  key: string;

  @Column({ name: 'request_hash', type: 'text' })
  requestHash: string;

  @Column({ type: 'jsonb', nullable: true })
  response: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}

/** Secrets shared by every API replica (made by the migration), e.g. the cursor signing key. */
@Entity({ name: 'api_secrets' })
export class ApiSecretEntity {
  @PrimaryColumn({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  value: string;
}
