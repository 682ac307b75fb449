import { ApiError, type Session, unwrap } from '@wagw/sdk';
import { useEffect, useRef } from 'preact/hooks';
import type { Connection } from '../api/connection.js';
import type { LiveEvents } from '../events/live-events.js';

/** Events that change what a session row shows. */
const ROW_EVENTS = new Set(['session.status', 'session.paired', 'session.logged_out']);

/**
 * Keeps session rows live: on an event that changes a row, the row is re-read (at most once per
 * animation-frame-ish burst per session), so the page shows exactly what the API serves.
 * `onRow(id, null)` when the session is gone. `only` limits it to one session.
 */
export function useSessionRefresh(
  connection: Connection,
  events: LiveEvents,
  only: string | null,
  onRow: (id: string, session: Session | null) => void,
): void {
  const callback = useRef(onRow);
  callback.current = onRow;
  useEffect(() => {
    const pending = new Map<string, ReturnType<typeof setTimeout>>();
    let live = true;
    const refresh = async (id: string) => {
      try {
        const session = await unwrap(
          connection.api.GET('/api/v1/sessions/{session}', { params: { path: { session: id } } }),
        );
        if (live) callback.current(id, session);
      } catch (error) {
        if (live && error instanceof ApiError && error.status === 404) callback.current(id, null);
      }
    };
    const unsubscribe = events.subscribe((event) => {
      const id = event.sessionId;
      if (!id || !ROW_EVENTS.has(event.type) || (only && id !== only)) return;
      if (pending.has(id)) return;
      pending.set(
        id,
        setTimeout(() => {
          pending.delete(id);
          void refresh(id);
        }, 30),
      );
    });
    return () => {
      live = false;
      unsubscribe();
      for (const timer of pending.values()) clearTimeout(timer);
    };
  }, [connection, events, only]);
}
