import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { DesiredState, SessionStatus } from '@wagw/domain';

@Entity({ name: 'sessions' })
@Index('sessions_org_id_idx', ['organizationId', 'id'])
@Index('sessions_claimable_idx', ['leaseExpiresAt'], { where: `desired_state = 'running'` })
@Index('sessions_owner_idx', ['ownerId'], { where: 'owner_id IS NOT NULL' })
export class SessionEntity {
  @PrimaryColumn({ type: 'char', length: 26 })
  id: string;

  @Column({ name: 'organization_id', type: 'text' })
  organizationId: string;

  @Column({ type: 'text', nullable: true })
  label: string | null;

  @Column({ name: 'auto_read', type: 'boolean', default: false })
  autoRead: boolean;

  @Column({ name: 'presence_typing', type: 'boolean', default: false })
  presenceTyping: boolean;

  @Column({ name: 'rate_per_min', type: 'integer', default: 20 })
  ratePerMin: number;

  @Column({ name: 'rate_per_hour', type: 'integer', default: 600 })
  ratePerHour: number;

  @Column({ type: 'text', default: 'stopped' })
  status: SessionStatus;

  @Column({ name: 'desired_state', type: 'text', default: 'stopped' })
  desiredState: DesiredState;

  @Column({ name: 'is_admin_session', type: 'boolean', default: false })
  isAdminSession: boolean;

  @Column({ name: 'phone_number', type: 'text', nullable: true })
  phoneNumber: string | null;

  @Column({ name: 'wa_jid', type: 'text', nullable: true })
  waJid: string | null;

  @Column({ name: 'wa_lid', type: 'text', nullable: true })
  waLid: string | null;

  @Column({ name: 'gateway_id', type: 'text', nullable: true })
  gatewayId: string | null;

  @Column({ name: 'last_connected_at', type: 'timestamptz', precision: 3, nullable: true })
  lastConnectedAt: Date | null;

  // --- lease (written only by gateway workers, fenced by owner + epoch) ---

  /** `<gatewayId>/<nonce>` of the worker process holding the lease; null when none does. */
  @Column({ name: 'owner_id', type: 'text', nullable: true })
  ownerId: string | null;

  /** +1 on every claim: the fencing token of every write the holder makes. */
  @Column({
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  epoch: number;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', precision: 3, nullable: true })
  leaseExpiresAt: Date | null;

  /**
   * The gateway whose claim set `epoch`; kept on release (unlike `owner_id`), so the API folds
   * that gateway's late events for this epoch and nobody else's.
   */
  @Column({ name: 'claimed_by', type: 'text', nullable: true })
  claimedBy: string | null;

  // --- folded from gateway events (ordered by the event's epoch + seq) ---

  @Column({ type: 'text', nullable: true })
  qr: string | null;

  @Column({ name: 'qr_expires_at', type: 'timestamptz', precision: 3, nullable: true })
  qrExpiresAt: Date | null;

  /** Why the connection last closed or failed (a WhatsApp disconnect code and text). */
  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason: string | null;

  @Column({
    name: 'status_epoch',
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  statusEpoch: number;

  @Column({
    name: 'status_seq',
    type: 'bigint',
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  statusSeq: number;

  @Column({ name: 'created_by_user_id', type: 'text' })
  createdByUserId: string;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
