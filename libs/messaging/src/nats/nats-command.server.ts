import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { ServerNats, type MessageHandler, type NatsContext } from '@nestjs/microservices';
import {
  DEFAULT_NATS_PREFIX,
  FLEET_QUEUE_GROUP,
  isSafeGatewayId,
  subjects,
  type Subjects,
} from '@wagw/contracts';
import { of, throwError, type Observable } from 'rxjs';
import type { CommandRegistration, CommandServer } from '../messaging.ports.js';
import { commandSubject } from '../shared/command-routing.util.js';
import { dispatchCommand } from '../shared/command.dispatcher.js';
import { InFlightTracker } from '../shared/in-flight.tracker.js';
import { REQUEST_ID_HEADER, withRequestId } from '../shared/request-context.js';
import {
  describeError,
  nestMessagingLogger,
  type MessagingLogger,
} from '../shared/messaging.logger.js';
import { natsConnectionOptions, type NatsEndpoint } from './nats-connection.options.js';

export interface NatsCommandServerOptions extends NatsEndpoint {
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
  /** How long close() lets in-flight handlers finish; default 10 s. */
  gracePeriodMs?: number;
  logger?: MessagingLogger;
}

interface Route {
  subject: string;
  queue: string | undefined;
}

/**
 * Nest's `ServerNats`, taught our subjects: stock `bindEvents` subscribes each handler on its
 * pattern with one queue for all; here every contract gets ITS subject and queue: fleet
 * commands in the fleet queue group (one worker takes each), owner commands on this gateway's
 * own subjects with no queue. Request handling, the packet format and replies stay Nest's.
 */
export class NatsCommandServer extends ServerNats implements CommandServer {
  private readonly subjects: Subjects;
  private readonly gracePeriodMs: number;
  private readonly log: MessagingLogger;
  private readonly routes = new Map<string, Route>();
  private readonly inFlight = new InFlightTracker();
  private subscriptionsBySubject: Subscription[] = [];
  private state: 'idle' | 'serving' | 'closed' = 'idle';
  private connection: string | null = null;

  constructor(options: NatsCommandServerOptions) {
    super(natsConnectionOptions(options));
    this.subjects = subjects(options.prefix ?? DEFAULT_NATS_PREFIX);
    this.gracePeriodMs = options.gracePeriodMs ?? 10_000;
    this.log = options.logger ?? nestMessagingLogger(NatsCommandServer.name);
    this.status.subscribe((status) => (this.connection = status));
  }

  /** Connected right now; null while not serving. */
  get isUp(): boolean | null {
    return this.state !== 'serving' || this.connection === null
      ? null
      : this.connection === 'connected';
  }

  /** Resolves once subscribed; with NATS down it waits for it (the connection never gives up). */
  async serve(gatewayId: string, registrations: readonly CommandRegistration[]): Promise<void> {
    if (this.state !== 'idle') throw new Error(`command server is already ${this.state}`);
    if (!isSafeGatewayId(gatewayId)) throw new Error(`invalid gateway id: ${gatewayId}`);
    const routes = registrations.map((registration) => ({
      registration,
      subject: commandSubject(this.subjects, registration.command, gatewayId),
      queue: registration.command.scope === 'fleet' ? FLEET_QUEUE_GROUP : undefined,
    }));
    for (const [i, { subject }] of routes.entries()) {
      if (routes.findIndex((r) => r.subject === subject) !== i) {
        throw new Error(`${subject} is registered twice`);
      }
    }
    this.state = 'serving';
    for (const { registration, subject, queue } of routes) {
      this.routes.set(subject, { subject, queue });
      this.addHandler(subject, this.toNestHandler(registration), false, { queue });
    }
    await new Promise<void>((resolve, reject) => {
      void this.listen((err?: unknown) => (err === undefined ? resolve() : reject(toError(err))));
    });
    // close() ran while the first connect was still waiting for NATS: don't leak it.
    if (this.isClosed()) await super.close();
  }

  override bindEvents(client: NatsConnection): void {
    if (this.state === 'closed') return;
    for (const { subject, queue } of this.routes.values()) {
      const subscription = client.subscribe(subject, {
        ...(queue === undefined ? {} : { queue }),
        callback: (err, msg) => {
          if (err) {
            this.log.error({ subject, err: describeError(err) }, 'command subscription error');
            return;
          }
          // Nest's handleMessage deserializes, routes and replies; a garbage packet (not JSON)
          // throws in its deserializer: log it, the requester times out.
          this.handleMessage(subject, msg).catch((e: unknown) =>
            this.log.warn({ subject, err: describeError(e) }, 'undeliverable command packet'),
          );
        },
      });
      this.subscriptionsBySubject.push(subscription);
    }
  }

  /**
   * Commands are request/reply only: a packet without an id (a Nest `emit`, or a bare
   * `nats pub`) would run a handler nobody waits for, so it's dropped.
   */
  override handleEvent(pattern: string): Promise<void> {
    this.log.warn({ subject: pattern }, 'command without reply subject ignored');
    return Promise.resolve();
  }

  /** Stops taking commands, lets in-flight ones finish and reply, then disconnects. */
  override async close(): Promise<void> {
    const wasServing = this.state === 'serving';
    this.state = 'closed';
    for (const subscription of this.subscriptionsBySubject.splice(0)) subscription.unsubscribe();
    if (!wasServing) return;
    if (!(await this.inFlight.idle(this.gracePeriodMs))) {
      this.log.warn(
        { inFlight: this.inFlight.size, gracePeriodMs: this.gracePeriodMs },
        'closing with commands still running',
      );
    }
    // Nest publishes a reply on the tick after the handler settles; flush it out before closing.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await this.unwrap<NatsConnection>().flush();
    } catch {
      // Not connected (never was, or NATS is down): nothing to flush.
    }
    await super.close();
  }

  /** A method, so TypeScript doesn't narrow `state` across the await in serve(). */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private toNestHandler(registration: CommandRegistration): MessageHandler {
    return async (data: unknown, context?: NatsContext): Promise<Observable<unknown>> => {
      const headers = context?.getHeaders() as { get(name: string): string } | undefined;
      const requestId = headers?.get(REQUEST_ID_HEADER) || undefined;
      const result = await this.inFlight.run(() =>
        withRequestId(requestId, () => dispatchCommand(registration, data, this.log)),
      );
      // The error travels as the packet's `err` (Nest's catchError path), tagged so the client
      // can tell a refusal from transport trouble. Throwing instead would skip the reply.
      return result.ok ? of(result.reply) : throwError(() => result.error);
    };
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(describeError(err));
}
