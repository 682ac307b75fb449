import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  abortableSleep,
  type EventStream,
  type EventStreamCursor,
  type StreamEntry,
} from '@wagw/messaging';
import { EVENT_STREAM } from '../messaging/messaging.tokens.js';
import type { IntakeEvent } from './webhook-deliveries.repository.js';
import { WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { WebhookIntakeRepository } from './webhook-intake.repository.js';

const LEASE_MS = 10_000;
const BATCH = 500;

/**
 * Takes events off the stream into the webhook delivery queue. One replica at a time holds
 * the intake (a lease in Postgres, taken over within LEASE_MS when its holder dies); it reads
 * the stream in order from its saved position and queues a batch's deliveries in the same
 * transaction that moves the position. So every event is queued once, in stream order, and
 * nothing is lost across restarts: a new holder resumes exactly where the last commit left.
 */
@Injectable()
export class WebhookIntake implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookIntake.name);
  private readonly holder = `${hostname()}/${randomUUID()}`;
  private readonly stop = new AbortController();
  private reader: EventStreamCursor | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    @Inject(EVENT_STREAM) private readonly stream: EventStream,
    @Inject(WebhookIntakeRepository) private readonly intake: WebhookIntakeRepository,
    @Inject(WebhookDeliveryWorker) private readonly worker: WebhookDeliveryWorker,
  ) {}

  /**
   * On the very first start the position is set (to the stream's end) before the API serves
   * a request, so a webhook created right away gets every event after its creation.
   */
  async onApplicationBootstrap(): Promise<void> {
    let position: number | undefined;
    try {
      position = await this.hold();
    } catch (error) {
      this.logger.warn(`webhook intake not started yet: ${(error as Error).message}`);
    }
    this.loop = this.run(position);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await this.reader?.close();
    await this.loop;
    await this.intake.release(this.holder).catch(() => undefined);
  }

  private async run(first: number | undefined): Promise<void> {
    let position = first;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      try {
        position ??= await this.hold();
        if (position === undefined) {
          await abortableSleep(LEASE_MS / 3, this.stop.signal);
          continue;
        }
        await this.follow(position);
        failures = 0;
      } catch (error) {
        failures += 1;
        if (failures === 1 || failures % 10 === 0)
          this.logger.warn(`webhook intake interrupted: ${(error as Error).message}`);
        await abortableSleep(Math.min(1_000 * failures, LEASE_MS / 3), this.stop.signal);
      }
      position = undefined;
    }
  }

  /** The lease and the position to read after, or undefined while another replica holds it. */
  private async hold(): Promise<number | undefined> {
    const cursor = await this.intake.acquire(this.holder, LEASE_MS);
    if (cursor === undefined) return undefined;
    const bounds = await this.stream.bounds();
    let position = cursor ?? bounds.lastSeq;
    if (cursor !== null && cursor > bounds.lastSeq) {
      // The stream is behind our position: it was reset (deleted, recreated). Take all it has.
      this.logger.warn(
        `events stream ends at ${bounds.lastSeq}, before the intake position ${cursor}: re-reading it`,
      );
      position = bounds.firstSeq - 1;
    } else if (cursor !== null && cursor + 1 < bounds.firstSeq) {
      this.logger.error(
        `${bounds.firstSeq - cursor - 1} events expired from the stream before the webhook intake read them`,
      );
    }
    if (position !== cursor && !(await this.intake.reposition(this.holder, position)))
      return undefined;
    return position;
  }

  /** Reads and queues from `position` on while this replica holds the intake. */
  private async follow(position: number): Promise<void> {
    const reader = this.stream.read(position + 1);
    this.reader = reader;
    try {
      while (!this.stop.signal.aborted) {
        const entries = await reader.next(BATCH, LEASE_MS / 3);
        if (this.stop.signal.aborted) return;
        if (entries.length === 0) {
          if ((await this.intake.acquire(this.holder, LEASE_MS)) === undefined) return;
          continue;
        }
        const to = entries.at(-1)!.seq;
        const queued = await this.intake.commit(
          this.holder,
          LEASE_MS,
          position,
          to,
          entries.flatMap(toIntakeEvent),
        );
        if (queued === false) return; // lease lost (too slow, or paused): start over
        position = to;
        if (queued > 0) this.worker.wake();
      }
    } finally {
      this.reader = null;
      await reader.close();
    }
  }
}

function toIntakeEvent({ seq, event }: StreamEntry): IntakeEvent[] {
  if (!event) return [];
  return [
    {
      seq,
      id: event.id,
      type: event.type,
      organizationId: event.organizationId,
      sessionId: event.sessionId,
      payload: JSON.stringify(event),
    },
  ];
}
