import type { ServerResponse } from 'node:http';
import type { HubEvent } from './event-ring.js';
import { type DisconnectReason, disconnectChunk } from './sse-format.js';

/** What a client asked to see; the organization is its principal's, never its choice. */
export interface ClientFilter {
  organizationId: string;
  sessionId: string | null;
  types: ReadonlySet<string> | null;
}

/** The `Authorization` header the stream was opened with, rechecked while it lasts. */
export type StreamCredential = string;

export function filterMatches(filter: ClientFilter, event: HubEvent): boolean {
  return (
    event.organizationId === filter.organizationId &&
    (filter.sessionId === null || event.sessionId === filter.sessionId) &&
    (filter.types === null || filter.types.has(event.type))
  );
}

/** Clients with equal filters receive the same bytes: the fan-out frames a batch once for them. */
export function filterSignature(filter: ClientFilter): string {
  const types = filter.types === null ? '*' : [...filter.types].sort().join(',');
  return `${filter.organizationId}\u0000${filter.sessionId ?? ''}\u0000${types}`;
}

/** A cut-off client gets this long to read its last bytes before its socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;

/**
 * One SSE connection. `position` is the last stream position it has been carried past (sent,
 * or filtered out): nothing at or before it is ever written again, which is what makes a
 * replay from the stream or the ring followed by live fan-out exactly-once and in order.
 */
export class SseClient {
  position = 0;
  live = false;
  closed = false;
  private corked = false;
  private backlogAtCork = 0;

  constructor(
    readonly filter: ClientFilter,
    readonly credential: StreamCredential,
    private readonly response: ServerResponse,
    private readonly bufferLimit: number,
    private readonly onClose: (client: SseClient, reason: DisconnectReason | null) => void,
  ) {
    response.once('close', () => this.finish(null));
  }

  matches(event: HubEvent): boolean {
    return filterMatches(this.filter, event);
  }

  /** One event, written at once (the hub corks a run of them and checks the backlog after). */
  offer(event: HubEvent): void {
    if (!this.live || this.closed || event.seq <= this.position) return;
    this.position = event.seq;
    if (this.matches(event)) this.response.write(event.chunk);
  }

  /**
   * A batch of live events this client matches, framed once for every client of its filter,
   * up to position `lastSeq`; then the backlog check.
   */
  sendBatch(chunk: string, lastSeq: number): void {
    if (!this.live || this.closed) return;
    const backlog = this.response.writableLength;
    this.response.write(chunk);
    this.position = lastSeq;
    this.checkBacklog(backlog);
  }

  write(chunk: string): void {
    if (!this.closed) this.response.write(chunk);
  }

  /** Replay from the stream: waits while the client's socket is full instead of buffering. */
  async writePaced(chunk: string): Promise<void> {
    if (this.closed || this.response.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.once('drain', done);
      this.response.once('close', done);
    });
  }

  cork(): void {
    if (this.corked || this.closed) return;
    this.corked = true;
    this.backlogAtCork = this.response.writableLength;
    this.response.cork();
  }

  /** Sends what was corked; a client that has more unread than its buffer allows is cut off. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.response.uncork();
    this.checkBacklog(this.backlogAtCork);
  }

  /**
   * Cut off when what was still unread BEFORE the last write is over the buffer: a client
   * that keeps up drains between batches, whatever one batch weighs.
   */
  private checkBacklog(backlogBefore: number): void {
    if (!this.closed && backlogBefore > this.bufferLimit) {
      this.cutOff(
        'slow_consumer',
        `more than ${this.bufferLimit} bytes unread: reconnect with Last-Event-ID to resume`,
      );
    }
  }

  /** Ends the stream with a final event saying why. */
  cutOff(reason: DisconnectReason, message: string): void {
    if (this.closed) return;
    this.response.end(disconnectChunk(reason, message));
    // A client that stopped reading would hold its socket (and what is buffered) for ever.
    setTimeout(() => this.response.destroy(), CLOSE_GRACE_MS).unref();
    this.finish(reason);
  }

  private finish(reason: DisconnectReason | null): void {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    this.onClose(this, reason);
  }
}
