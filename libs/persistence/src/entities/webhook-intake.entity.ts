import { Column, Entity, PrimaryColumn } from 'typeorm';

const bigintAsNumber = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

/**
 * The webhook intake's position in the events stream, advanced in the same transaction that
 * queues the deliveries (so every event is queued exactly once), and the lease of the API
 * replica doing it.
 */
@Entity({ name: 'webhook_intake' })
export class WebhookIntakeEntity {
  @PrimaryColumn({ type: 'text' })
  id: string;

  /** Last stream sequence taken in; null until the first replica starts from the stream's end. */
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  cursor: number | null;

  @Column({ type: 'text', nullable: true })
  holder: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', precision: 3, nullable: true })
  leaseExpiresAt: Date | null;
}
