/** Placeholders (`$1`, `$2`...) of the session id, owner id and epoch in the enclosing statement. */
export interface LeaseFenceParams {
  sessionId: string;
  ownerId: string;
  epoch: string;
}

/**
 * A sub-select yielding one row iff `ownerId` holds the session's lease at `epoch` and the lease
 * is live by the database clock: the fencing condition of every write a worker makes.
 *
 * The row is locked FOR SHARE (not FOR KEY SHARE: a claim changes no key, so only FOR SHARE
 * conflicts with it). A peer's claim therefore cannot bump the epoch between this check and the
 * commit of the writes that depend on it: it skips the row (SKIP LOCKED) or, if it locked first,
 * this check waits, re-reads the new epoch and fails. Composed into a single statement, check and
 * write are one atomic step with no transaction held open across round trips.
 */
export function leaseFenceSql(p: LeaseFenceParams): string {
  return (
    `SELECT 1 FROM sessions WHERE id = ${p.sessionId}::bpchar AND owner_id = ${p.ownerId}::text` +
    ` AND epoch = ${p.epoch}::bigint AND lease_expires_at > now() FOR SHARE`
  );
}
