import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A gateway worker as it last reported itself (heartbeat on every lease renewal). */
@Entity({ name: 'gateways' })
export class GatewayEntity {
  /** GATEWAY_ID, e.g. `gw-sg-1`. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  /** `<id>/<nonce>` of the process now running under this id. */
  @Column({ name: 'owner_id', type: 'text' })
  ownerId: string;

  @Column({ type: 'integer' })
  capacity: number;

  @Column({ name: 'sessions_held', type: 'integer', default: 0 })
  sessionsHeld: number;

  /** Set by an admin's drain: the worker hands its sessions to peers and claims no more. */
  @Column({ type: 'boolean', default: false })
  draining: boolean;

  @Column({ name: 'started_at', type: 'timestamptz', precision: 3 })
  startedAt: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', precision: 3 })
  lastSeenAt: Date;
}
