import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Capability } from '@wagw/domain';

/** An API key. Only a SHA-256 digest of the secret is stored; `prefix` is the public lookup handle. */
@Entity({ name: 'api_keys' })
@Index('api_keys_org_idx', ['organizationId', 'createdAt'])
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'char', length: 26 })
  id: string;

  @Column({ name: 'organization_id', type: 'text' })
  organizationId: string;

  @Column({ type: 'text' })
  name: string;

  @Index('api_keys_prefix_key', { unique: true })
  @Column({ type: 'text' })
  prefix: string;

  @Column({ name: 'secret_hash', type: 'bytea' })
  secretHash: Buffer;

  @Column({ type: 'text', array: true })
  capabilities: Capability[];

  @Column({ name: 'created_by_user_id', type: 'text' })
  createdByUserId: string;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', precision: 3, nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true })
  revokedAt: Date | null;
}
