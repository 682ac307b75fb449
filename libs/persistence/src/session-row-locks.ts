/**
 * A CTE, `locked`, that locks the `sessions` rows matching `where` (SQL over the table's own
 * columns, e.g. `id = ANY($2::bpchar[])` or `owner_id = $1`) in id order, for a statement that
 * updates several of them: reference it from the update (`AND s.id IN (SELECT id FROM locked)`).
 * Every multi-row update of sessions that can wait — the holder's renewal and releases, the
 * API's fold of their events — must take its rows in one order, or two of them meeting the same
 * rows in different orders deadlock (Postgres aborts one). A claim never waits (SKIP LOCKED).
 * `FOR NO KEY UPDATE` is what the update itself takes: it does not block rows that reference a
 * session (messages, auth keys) from being written meanwhile.
 */
export const sessionsLockedInIdOrder = (where: string): string =>
  `locked AS MATERIALIZED (
         SELECT id FROM sessions WHERE ${where} ORDER BY id FOR NO KEY UPDATE
       )`;
