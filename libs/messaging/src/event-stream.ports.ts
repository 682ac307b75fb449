import type { ApiEvent, PublicEvent } from '@wagw/contracts';

/**
 * The events stream read by position, for what clients see: the SSE fan-out of each API
 * replica and the webhook intake. A position is the stream's sequence (JetStream's stream
 * sequence, or the in-process log's), durable and shared by every replica, so a client can
 * resume on any replica and after any restart. Unlike `EventConsumer` nothing is acknowledged:
 * the reader keeps its own position.
 */

/** One stream message: `event` is null when it is not a valid event (its position still counts). */
export interface StreamEntry {
  seq: number;
  event: PublicEvent | null;
}

/** What the stream retains: `firstSeq` > `lastSeq` when it holds nothing (`lastSeq` 0 if never written). */
export interface StreamBounds {
  firstSeq: number;
  lastSeq: number;
}

export interface EventStreamCursor {
  /**
   * The next entries in stream order, at most `max`; waits up to `waitMs` for the first one
   * and returns `[]` if none came. Starting below the first retained position starts at it.
   */
  next(max: number, waitMs: number): Promise<StreamEntry[]>;
  close(): Promise<void>;
}

export interface EventStream {
  bounds(): Promise<StreamBounds>;
  /** A cursor from `fromSeq` (inclusive) that follows the stream live. */
  read(fromSeq: number): EventStreamCursor;
  /**
   * Appends an event the API itself emits (e.g. `webhook.disabled`), deduplicated by its id;
   * resolves once the stream holds it, retrying while the stream is unreachable.
   */
  publish(event: ApiEvent): Promise<void>;
  close(): Promise<void>;
}
