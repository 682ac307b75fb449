import { SseParser } from './sse-parser.js';

/** An event of the organization, as `GET /api/v1/events` and webhooks carry it. */
export interface GatewayEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  organizationId: string;
  sessionId: string | null;
  occurredAt: number;
  data: T;
}

/** `event: resync` / `event: disconnect`: the stream's own notices. */
export interface StreamNotice {
  reason: string;
  message: string;
}

export interface EventStreamOptions {
  /** Where the API is, e.g. `http://localhost:8080`; '' = the page's origin. */
  baseUrl: string;
  /** An API key or a login JWT (sent as `Authorization: Bearer`, which a browser EventSource cannot send). */
  token: string;
  sessionId?: string;
  types?: string[];
  /** Resume after this position (an earlier event's SSE id). */
  lastEventId?: string;
  onEvent(event: GatewayEvent, position: string): void;
  /** Events may have been missed: re-read state (`GET /sessions`). */
  onResync?(notice: StreamNotice): void;
  /** The server ended the stream (it is reopened from the last position). */
  onDisconnect?(notice: StreamNotice): void;
  /** `true` when the stream is open, `false` when it dropped (it retries by itself). */
  onConnectionChange?(open: boolean): void;
  /** A refusal that retrying cannot cure (401, 403, 404, 400): the stream stops. */
  onFatal?(status: number, body: unknown): void;
  fetch?: typeof globalThis.fetch;
}

export interface EventStream {
  /** The position of the last event received ('' before the first). */
  readonly position: string;
  close(): void;
}

const FATAL = new Set([400, 401, 403, 404]);
const MAX_BACKOFF_MS = 30_000;

/**
 * The event stream over `fetch` streaming, so the credential travels in the Authorization header
 * (never in a URL). Reconnects by itself with `Last-Event-ID` (the server's `retry:` delay, doubled
 * up to 30 s while it keeps failing), so no event is missed or repeated across a drop.
 */
export function openEventStream(options: EventStreamOptions): EventStream {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const controller = new AbortController();
  let position = options.lastEventId ?? '';
  let retryMs = 1_000;
  let failures = 0;

  const url = (): string => {
    const query = new URLSearchParams();
    if (options.sessionId) query.set('sessionId', options.sessionId);
    if (options.types?.length) query.set('types', options.types.join(','));
    const qs = query.toString();
    return `${options.baseUrl}/api/v1/events${qs ? `?${qs}` : ''}`;
  };

  const handle = (event: string, data: string): void => {
    if (event === 'message') {
      options.onEvent(JSON.parse(data) as GatewayEvent, position);
    } else if (event === 'resync') {
      options.onResync?.(JSON.parse(data) as StreamNotice);
    } else if (event === 'disconnect') {
      options.onDisconnect?.(JSON.parse(data) as StreamNotice);
    }
  };

  const once = async (): Promise<'retry' | 'stop'> => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token}`,
      accept: 'text/event-stream',
    };
    if (position) headers['last-event-id'] = position;
    const response = await doFetch(url(), {
      headers,
      signal: controller.signal,
    });
    if (!response.ok || !response.body) {
      const body: unknown = await response.json().catch(() => null);
      if (FATAL.has(response.status)) {
        options.onFatal?.(response.status, body);
        return 'stop';
      }
      return 'retry';
    }
    failures = 0;
    options.onConnectionChange?.(true);
    const parser = new SseParser(
      (message) => {
        position = message.lastEventId;
        handle(message.event, message.data);
      },
      (ms) => (retryMs = ms),
      position,
    );
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } finally {
      reader.releaseLock();
    }
    return 'retry';
  };

  void (async () => {
    while (!controller.signal.aborted) {
      let outcome: 'retry' | 'stop' = 'retry';
      try {
        outcome = await once();
      } catch {
        // a dropped connection or a refused one: retried below
      }
      if (controller.signal.aborted || outcome === 'stop') break;
      options.onConnectionChange?.(false);
      failures++;
      const delay = Math.min(retryMs * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  })();

  return {
    get position() {
      return position;
    },
    close() {
      controller.abort();
    },
  };
}
