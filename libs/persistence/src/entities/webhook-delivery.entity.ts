import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * One event for one webhook: a queue entry while `pending`, a record once `delivered`, a dead
 * letter once `failed`. Deliveries of one (webhook, session) go out in stream order: only the
 * pending one with the lowest `stream_seq` of its `order_key` is ever attempted.
 */
@Entity({ name: 'webhook_deliveries' })
@Index('webhook_deliveries_event_key', ['webhookId', 'eventId'], { unique: true })
@Index('webhook_deliveries_list_idx', ['webhookId', 'id'])
@Index('webhook_deliveries_queue_idx', ['webhookId', 'orderKey', 'streamSeq'], {
  where: `status = 'pending'`,
})
@Index('webhook_deliveries_due_idx', ['nextAttemptAt'], {
  where: `status = 'pending' AND NOT blocked`,
})
@Index('webhook_deliveries_done_idx', ['createdAt'], { where: `status <> 'pending'` })
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'char', length: 26 })
  id: string;

  @Column({ name: 'webhook_id', type: 'char', length: 26 })
  webhookId: string;

  @Column({ name: 'organization_id', type: 'text' })
  organizationId: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType: string;

  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId: string | null;

  /** The session id, or '' for organization events: the ordering key within the webhook. */
  @Column({ name: 'order_key', type: 'text' })
  orderKey: string;

  /** The event's position in the events stream. */
  @Column({ name: 'stream_seq', type: 'bigint', transformer: bigintAsNumber })
  streamSeq: number;

  /** The exact body sent (and signed): the public event as JSON. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'text', default: 'pending' })
  status: WebhookDeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /**
   * Waiting behind an earlier pending delivery of its (webhook, session): not worth looking at
   * until that one is done. Only a shortcut for the claim (which checks the order itself).
   */
  @Column({ type: 'boolean', default: false })
  blocked: boolean;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', precision: 3 })
  nextAttemptAt: Date;

  /** An attempt in progress on some replica until then (a crashed one's claim runs out). */
  @Column({ name: 'claimed_until', type: 'timestamptz', precision: 3, nullable: true })
  claimedUntil: Date | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'last_latency_ms', type: 'integer', nullable: true })
  lastLatencyMs: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', precision: 3, nullable: true })
  deliveredAt: Date | null;
}
