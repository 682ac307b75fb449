import type { PublicEvent } from '@wagw/contracts';

/**
 * Server-Sent Events framing. Events are `id: <stream sequence>` + `data: <public event JSON>`
 * (the default `message` type, so `onmessage` sees them; the JSON names its type). The
 * stream's own notices use named events: `resync` (carries an id: the position the stream
 * goes on from) and `disconnect` (the last thing sent before the server closes).
 */
export const eventChunk = (seq: number, event: PublicEvent): string =>
  `id: ${seq}\ndata: ${JSON.stringify(event)}\n\n`;

export type DisconnectReason = 'slow_consumer' | 'shutdown' | 'credentials_revoked' | 'unavailable';

export const disconnectChunk = (reason: DisconnectReason, message: string): string =>
  `event: disconnect\ndata: ${JSON.stringify({ reason, message })}\n\n`;

export type ResyncReason = 'position_expired' | 'position_unknown';

export const resyncChunk = (reason: ResyncReason, requested: number, resumeAfter: number): string =>
  `event: resync\nid: ${resumeAfter}\ndata: ${JSON.stringify({
    reason,
    lastEventId: String(requested),
    resumedAfter: String(resumeAfter),
    message:
      reason === 'position_expired'
        ? 'events after lastEventId are no longer retained: re-read state (GET /sessions), then carry on'
        : 'lastEventId is not a position of this stream: re-read state (GET /sessions), then carry on',
  })}\n\n`;

/** First bytes of a stream: the client's reconnection delay, so a cut-off client comes back soon. */
export const OPENING = 'retry: 1000\n\n';
export const HEARTBEAT = ': keep-alive\n\n';
