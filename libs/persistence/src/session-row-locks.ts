/**
 * A CTE, `locked`, that locks the `sessions` rows whose ids are in the array parameter `ids`
 * (e.g. `$2`) in id order, for a statement that updates several of them: reference it from the
 * update (`AND s.id IN (SELECT id FROM locked)`). Every multi-row update of sessions — the
 * holder's renewal and release, the API's fold of their events — must take its rows in one
 * order, or two of them meeting the same rows in different orders deadlock (Postgres aborts one).
 * `FOR NO KEY UPDATE` is what the update itself takes: it does not block rows that reference a
 * session (messages, auth keys) from being written meanwhile.
 */
export const sessionsLockedInIdOrder = (ids: string): string =>
  `locked AS MATERIALIZED (
         SELECT id FROM sessions WHERE id = ANY(${ids}::bpchar[]) ORDER BY id FOR NO KEY UPDATE
       )`;
