import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A webhook of an organization: where to POST which events (optionally of one session only).
 * The signing secret has to be usable, so unlike an API key it is stored as issued; it is
 * returned once, at creation or rotation, and never logged.
 */
@Entity({ name: 'webhooks' })
@Index('webhooks_org_idx', ['organizationId', 'id'])
export class WebhookEntity {
  @PrimaryColumn({ type: 'char', length: 26 })
  id: string;

  @Column({ name: 'organization_id', type: 'text' })
  organizationId: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes: string[];

  /** Only this session's events; null for every session of the organization. */
  @Column({ name: 'session_id', type: 'char', length: 26, nullable: true })
  sessionId: string | null;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /**
   * The events stream's last position when the webhook was created: only events after it are
   * delivered (the intake may still be taking in older ones when the webhook appears).
   */
  @Column({
    name: 'start_seq',
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  startSeq: number;

  /** `whsec_<base64>`. */
  @Column({ type: 'text' })
  secret: string;

  /** After a rotation, the previous secret also signs until `previousSecretExpiresAt`. */
  @Column({ name: 'previous_secret', type: 'text', nullable: true })
  previousSecret: string | null;

  @Column({
    name: 'previous_secret_expires_at',
    type: 'timestamptz',
    precision: 3,
    nullable: true,
  })
  previousSecretExpiresAt: Date | null;

  /** Since when every attempt failed (cleared by a success); past a limit the webhook is disabled. */
  @Column({ name: 'failing_since', type: 'timestamptz', precision: 3, nullable: true })
  failingSince: Date | null;

  /** Why the API switched it off (`failing`); null when active or switched off by a user. */
  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
