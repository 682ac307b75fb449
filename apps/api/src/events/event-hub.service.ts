import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { PublicEvent } from '@wagw/contracts';
import type { EventStream, EventStreamCursor, StreamEntry } from '@wagw/messaging';
import { ApiConfig } from '../config/api-config.js';
import { EVENT_STREAM } from '../messaging/messaging.tokens.js';
import { MetricsService } from '../ops/metrics.service.js';
import { EventRing, type HubEvent } from './event-ring.js';
import { type ClientFilter, filterMatches, filterSignature, type SseClient } from './sse-client.js';
import { StreamCredentials } from './stream-credentials.js';
import { type DisconnectReason, eventChunk, HEARTBEAT, resyncChunk } from './sse-format.js';

const FAN_OUT_BATCH = 1_000;
const CATCH_UP_BATCH = 500;

/** The live clients of one organization that share a filter: they get the same bytes. */
interface LiveGroup {
  filter: ClientFilter;
  clients: Set<SseClient>;
}

/**
 * The SSE fan-out of one API replica: ONE reader of the events stream, however many clients.
 * Each event is framed once; a batch of events is joined once per distinct filter and written
 * to each live client of that filter in one write (clients are indexed by organization, then
 * filter, and every filter names its organization). Recent events stay in a
 * ring, so a client resuming with Last-Event-ID is served from memory; an older position is
 * replayed from the stream by a reader of its own until the client reaches the ring, then it
 * joins the live fan-out in the same synchronous step (no gap, no repeat). A client that does
 * not keep up is cut off with a final event instead of growing this replica's memory.
 */
@Injectable()
export class EventHub
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(EventHub.name);
  private ring = new EventRing(1, 1);
  private head = 0;
  private readonly all = new Set<SseClient>();
  private readonly liveByOrg = new Map<string, Map<string, LiveGroup>>();
  private reader: EventStreamCursor | null = null;
  private loop: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private stopped = false;
  private rechecking = false;

  constructor(
    @Inject(ApiConfig) private readonly config: ApiConfig,
    @Inject(EVENT_STREAM) private readonly stream: EventStream,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(StreamCredentials) private readonly credentials: StreamCredentials,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { lastSeq } = await this.stream.bounds();
    this.head = lastSeq;
    this.ring = new EventRing(this.config.SSE_REPLAY_BUFFER_EVENTS, lastSeq + 1);
    this.reader = this.stream.read(lastSeq + 1);
    this.loop = this.follow(this.reader);
    this.heartbeat = setInterval(() => {
      for (const client of this.all) client.write(HEARTBEAT);
      void this.recheckCredentials();
    }, this.config.SSE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Before the HTTP server closes: it waits for open connections, and streams never end. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const client of [...this.all])
      client.cutOff('shutdown', 'this API replica is shutting down: reconnect with Last-Event-ID');
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.reader?.close();
    await this.loop;
  }

  /**
   * Registers a connected client and brings it to the live fan-out from `lastEventId`. Never
   * throws (the response is already the stream's): when the stream cannot be read to resume
   * it, the client is told to come back.
   */
  async attach(client: SseClient, lastEventId: number | null): Promise<void> {
    this.all.add(client);
    this.metrics.sseClients.set(this.all.size);
    if (lastEventId === null || this.inRing(lastEventId)) {
      this.goLive(client, lastEventId ?? this.head);
      return;
    }
    try {
      await this.resume(client, lastEventId);
    } catch (error) {
      this.logger.warn(`resuming an SSE client failed: ${(error as Error).message}`);
      client.cutOff(
        'unavailable',
        'the event stream cannot be read now: reconnect with Last-Event-ID',
      );
    }
  }

  /** A position this replica's ring does not cover: resync, or replay from the stream. */
  private async resume(client: SseClient, lastEventId: number): Promise<void> {
    const bounds = await this.stream.bounds();
    if (client.closed) return;
    if (lastEventId > bounds.lastSeq) {
      client.write(resyncChunk('position_unknown', lastEventId, this.head));
      this.goLive(client, this.head);
    } else if (lastEventId >= this.head || this.inRing(lastEventId)) {
      // At or ahead of this replica's reader (another replica was ahead): what follows comes live.
      this.goLive(client, lastEventId);
    } else if (lastEventId + 1 < bounds.firstSeq) {
      client.write(resyncChunk('position_expired', lastEventId, this.head));
      this.goLive(client, this.head);
    } else {
      await this.catchUp(client, lastEventId);
    }
  }

  /** Forgets a client whose connection ended: it closed, or was cut off (`reason`). */
  detach(client: SseClient, reason: DisconnectReason | null = null): void {
    if (reason && this.all.has(client)) this.metrics.sseCutOff.inc({ reason });
    this.all.delete(client);
    const org = client.filter.organizationId;
    const groups = this.liveByOrg.get(org);
    const signature = filterSignature(client.filter);
    const group = groups?.get(signature);
    group?.clients.delete(client);
    if (group?.clients.size === 0) groups!.delete(signature);
    if (groups?.size === 0) this.liveByOrg.delete(org);
    this.metrics.sseClients.set(this.all.size);
  }

  /**
   * Ends the streams whose credential no longer authenticates (a revoked API key, an expired
   * login), once per heartbeat: each distinct credential is checked once, through the caches
   * the auth guard uses.
   */
  private async recheckCredentials(): Promise<void> {
    if (this.rechecking) return;
    this.rechecking = true;
    try {
      const byCredential = new Map<string, SseClient[]>();
      for (const client of this.all) {
        const list = byCredential.get(client.credential);
        if (list) list.push(client);
        else byCredential.set(client.credential, [client]);
      }
      for (const [credential, clients] of byCredential) {
        if (await this.credentials.stillValid(credential)) continue;
        for (const client of clients)
          client.cutOff(
            'credentials_revoked',
            'the credential of this stream no longer authenticates',
          );
      }
    } finally {
      this.rechecking = false;
    }
  }

  /** Every event after `position` is in the ring (or not yet read by this replica). */
  private inRing(position: number): boolean {
    return position + 1 >= this.ring.coveredFrom && position <= this.head;
  }

  /** Replays the ring after `position` and joins the fan-out, synchronously. */
  private goLive(client: SseClient, position: number): void {
    if (client.closed || this.stopped) return;
    client.position = position;
    client.live = true;
    client.cork();
    for (const event of this.ring.after(position)) client.offer(event);
    const org = client.filter.organizationId;
    let groups = this.liveByOrg.get(org);
    if (!groups) this.liveByOrg.set(org, (groups = new Map<string, LiveGroup>()));
    const signature = filterSignature(client.filter);
    let group = groups.get(signature);
    if (!group) groups.set(signature, (group = { filter: client.filter, clients: new Set() }));
    group.clients.add(client);
    client.uncork();
  }

  /** Replays from the stream, paced by the client, until the ring covers the rest. */
  private async catchUp(client: SseClient, from: number): Promise<void> {
    client.position = from;
    const reader = this.stream.read(from + 1);
    try {
      while (!client.closed && !this.stopped) {
        // Caught up with the ring (or ahead of this replica's reader): join the fan-out.
        if (client.position + 1 >= this.ring.coveredFrom)
          return this.goLive(client, client.position);
        for (const { seq, event } of await reader.next(CATCH_UP_BATCH, 1_000)) {
          if (seq <= client.position) continue;
          const hubEvent = event && toHubEvent(seq, event);
          if (hubEvent && client.matches(hubEvent)) await client.writePaced(hubEvent.chunk);
          if (client.closed) return;
          client.position = seq;
        }
      }
    } finally {
      await reader.close();
    }
  }

  private async follow(reader: EventStreamCursor): Promise<void> {
    while (!this.stopped) {
      try {
        this.fanOut(await reader.next(FAN_OUT_BATCH, 5_000));
      } catch (error) {
        this.logger.error(`SSE fan-out failed: ${(error as Error).message}`);
      }
    }
  }

  private fanOut(entries: readonly StreamEntry[]): void {
    const batches = new Map<LiveGroup, HubEvent[]>();
    const now = Date.now();
    for (const { seq, event } of entries) {
      if (seq <= this.head) continue;
      this.head = seq;
      if (!event) continue;
      this.metrics.sseFanOutLag.observe(Math.max(0, now - event.occurredAt) / 1000);
      const hubEvent = toHubEvent(seq, event);
      this.ring.push(hubEvent);
      const groups = this.liveByOrg.get(event.organizationId);
      if (!groups) continue;
      for (const group of groups.values()) {
        if (!filterMatches(group.filter, hubEvent)) continue;
        const batch = batches.get(group);
        if (batch) batch.push(hubEvent);
        else batches.set(group, [hubEvent]);
      }
    }
    for (const [group, events] of batches) {
      const first = events[0]!.seq;
      const last = events.at(-1)!.seq;
      let chunk: string | null = null;
      for (const client of group.clients) {
        if (client.position < first) {
          client.sendBatch((chunk ??= events.map((e) => e.chunk).join('')), last);
        } else {
          // Joined live ahead of this replica's reader: some of these it has already seen.
          client.cork();
          for (const event of events) client.offer(event);
          client.uncork();
        }
      }
    }
  }
}

function toHubEvent(seq: number, event: PublicEvent): HubEvent {
  return {
    seq,
    organizationId: event.organizationId,
    sessionId: event.sessionId,
    type: event.type,
    chunk: eventChunk(seq, event),
  };
}
