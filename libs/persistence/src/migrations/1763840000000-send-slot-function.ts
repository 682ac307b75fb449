import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A send's rate-limit check in one statement: `wagw_take_send_slot` takes the session's
 * transaction lock, counts both sliding windows and takes a slot (or says which window is full
 * and when it frees), and trims what no window counts any more. It was six round trips (BEGIN,
 * lock, count, insert, trim, COMMIT) holding a pool connection throughout. Exact across
 * replicas as before: the statements of a VOLATILE PL/pgSQL function each take a new snapshot
 * under READ COMMITTED, so the count after the lock sees every slot its previous holder
 * committed. The lock key is the one the six-statement version used, so replicas of both
 * versions exclude each other during a rolling upgrade.
 */
export class SendSlotFunction1763840000000 implements MigrationInterface {
  name = 'SendSlotFunction1763840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION wagw_take_send_slot(p_session character, p_organization text, p_slot character)
      RETURNS TABLE (ok boolean, window_name text, rate_limit integer, retry_after integer)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        s record;
        in_minute bigint;
        in_hour bigint;
        retry double precision;
        full_window text;
        lim integer;
        span interval;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('wagw-send:' || p_session));
        SELECT rate_per_min, rate_per_hour INTO s
          FROM sessions WHERE id = p_session AND organization_id = p_organization;
        IF NOT FOUND THEN
          RETURN;
        END IF;
        SELECT count(*) FILTER (WHERE taken_at > now() - interval '1 minute'), count(*)
          INTO in_minute, in_hour
          FROM message_send_slots
          WHERE session_id = p_session AND taken_at > now() - interval '1 hour';
        IF in_minute >= s.rate_per_min THEN
          full_window := 'minute'; lim := s.rate_per_min; span := interval '1 minute';
        ELSIF in_hour >= s.rate_per_hour THEN
          full_window := 'hour'; lim := s.rate_per_hour; span := interval '1 hour';
        END IF;
        IF full_window IS NOT NULL THEN
          -- Free again when the lim-th newest slot of the window leaves it.
          SELECT ceil(extract(epoch FROM max(taken_at) + span - now())) INTO retry
            FROM (SELECT taken_at FROM message_send_slots
                  WHERE session_id = p_session AND taken_at > now() - span
                  ORDER BY taken_at DESC OFFSET GREATEST(lim - 1, 0)) w;
          RETURN QUERY SELECT false, full_window, lim, GREATEST(1, coalesce(retry, 1))::integer;
          RETURN;
        END IF;
        INSERT INTO message_send_slots (session_id, slot_id, taken_at)
          VALUES (p_session, p_slot, now());
        -- What no window can count any more goes, a few rows at a time, under the same lock.
        DELETE FROM message_send_slots
          WHERE session_id = p_session AND taken_at < now() - interval '1 hour';
        RETURN QUERY SELECT true, NULL::text, NULL::integer, NULL::integer;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION wagw_take_send_slot(character, text, character)`);
  }
}
