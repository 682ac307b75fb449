import { Column, Entity, PrimaryColumn } from 'typeorm';

/** WhatsApp credentials of a session: AES-256-GCM ciphertext, written fenced by the lease. */
@Entity({ name: 'wa_auth_creds' })
export class WaAuthCredsEntity {
  @PrimaryColumn({ name: 'session_id', type: 'char', length: 26 })
  sessionId: string;

  @Column({ type: 'bytea' })
  data: Buffer;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}

/** Signal keys of a session (pre-keys, sessions, sender keys...), encrypted like the creds. */
@Entity({ name: 'wa_auth_keys' })
export class WaAuthKeyEntity {
  @PrimaryColumn({ name: 'session_id', type: 'char', length: 26 })
  sessionId: string;

  @PrimaryColumn({ type: 'text' })
  type: string;

  @PrimaryColumn({ name: 'key_id', type: 'text' })
  keyId: string;

  @Column({ type: 'bytea' })
  data: Buffer;
}
