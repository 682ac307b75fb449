import type { EntityManager } from 'typeorm';

/**
 * Deletes a session's WhatsApp auth state with no lease check: for the API when the session row
 * itself is deleted (no worker can legitimately write it any more). One statement.
 */
export async function deleteAuthState(manager: EntityManager, sessionId: string): Promise<void> {
  await manager.query(
    `WITH creds AS (DELETE FROM wa_auth_creds WHERE session_id = $1::bpchar)
     DELETE FROM wa_auth_keys WHERE session_id = $1::bpchar`,
    [sessionId],
  );
}
