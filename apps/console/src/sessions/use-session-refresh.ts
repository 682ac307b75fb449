import { ApiError, type GatewayEvent, type Session, unwrap } from '@wagw/sdk';
import { useEffect, useRef } from 'preact/hooks';
import type { Connection } from '../api/connection.js';
import type { LiveEvents } from '../events/live-events.js';

/** What an event says about its session's row, at once. */
export function patchOf(event: GatewayEvent): Partial<Session> | null {
  const d = event.data;
  switch (event.type) {
    case 'session.status':
      return {
        status: d.status as Session['status'],
        gatewayId: (d.gatewayId as string | null) ?? null,
      };
    case 'session.paired':
      return {
        phoneNumber: d.phoneNumber as string,
        waJid: d.waJid as string,
        waLid: (d.waLid as string | null) ?? null,
      };
    case 'session.logged_out':
      return { phoneNumber: null, waJid: null, waLid: null };
    default:
      return null;
  }
}

/** The row already shows everything the events said. */
const agrees = (row: Session, expected: Partial<Session>): boolean =>
  Object.entries(expected).every(([key, value]) => row[key as keyof Session] === value);

const RETRIES = 6;

/**
 * Keeps session rows live. An event's own data is applied at once (`onPatch`); then the row is
 * re-read for the rest (`onRow`; null when the session is gone). The stream and the rows are
 * updated independently (the API folds events into rows on its own), so a read may still show
 * the state before the event: it is retried with backoff until the row agrees with what the
 * events said, and never replaces a newer state with an older one. `only` limits it to one session.
 */
export function useSessionRefresh(
  connection: Connection,
  events: LiveEvents,
  only: string | null,
  onRow: (id: string, session: Session | null) => void,
  onPatch: (id: string, patch: Partial<Session>) => void,
): void {
  const callbacks = useRef({ onRow, onPatch });
  callbacks.current = { onRow, onPatch };
  useEffect(() => {
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    /** Per session: the fields the latest events set, and a generation to drop stale reads. */
    const expected = new Map<string, { fields: Partial<Session>; generation: number }>();
    let live = true;

    const schedule = (id: string, attempt: number, delay: number) => {
      clearTimeout(timers.get(id));
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          void refresh(id, attempt);
        }, delay),
      );
    };

    const refresh = async (id: string, attempt: number) => {
      const generation = expected.get(id)?.generation;
      try {
        const row = await unwrap(
          connection.api.GET('/api/v1/sessions/{session}', { params: { path: { session: id } } }),
        );
        const wanted = expected.get(id);
        if (!live || wanted?.generation !== generation) return; // a newer event: its read wins
        if (wanted && !agrees(row, wanted.fields) && attempt < RETRIES) {
          schedule(id, attempt + 1, 50 * 2 ** attempt);
          return;
        }
        expected.delete(id);
        callbacks.current.onRow(id, row);
      } catch (error) {
        if (live && error instanceof ApiError && error.status === 404)
          callbacks.current.onRow(id, null);
      }
    };

    const unsubscribe = events.subscribe((event) => {
      const id = event.sessionId;
      const patch = patchOf(event);
      if (!id || !patch || (only && id !== only)) return;
      const previous = expected.get(id);
      expected.set(id, {
        fields: { ...previous?.fields, ...patch },
        generation: (previous?.generation ?? 0) + 1,
      });
      callbacks.current.onPatch(id, patch);
      schedule(id, 0, 30);
    });
    return () => {
      live = false;
      unsubscribe();
      for (const timer of timers.values()) clearTimeout(timer);
    };
  }, [connection, events, only]);
}
