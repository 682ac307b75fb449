import type { AnyGatewayEvent, CommandContract } from '@wagw/contracts';

/**
 * How the API and the gateway fleet talk, whatever carries it: NATS (+ JetStream) in the
 * distributed setup, an in-process broker in the embedded one. Same contracts, same semantics:
 * request/reply with explicit timeouts; fleet commands reach one worker; events are durable and
 * delivered at least once to a durable consumer shared by API replicas.
 */

/** No worker answered in time (none running, none subscribed, or too slow): safe to retry. */
export class CommandUnavailableError extends Error {}

export interface RequestOptions {
  /** Required for `owner` commands: the gateway the command is for. */
  gatewayId?: string;
  timeoutMs: number;
}

export interface CommandClient {
  request<Req, Res>(
    command: CommandContract<Req, Res>,
    payload: Req,
    options: RequestOptions,
  ): Promise<Res>;
  close(): Promise<void>;
}

export type CommandHandler<Req, Res> = (payload: Req) => Promise<Res>;

export interface CommandRegistration {
  command: CommandContract<unknown, unknown>;
  handler: CommandHandler<unknown, unknown>;
}

/** Typed helper so call sites keep the contract's payload types. */
export const handle = <Req, Res>(
  command: CommandContract<Req, Res>,
  handler: CommandHandler<Req, Res>,
): CommandRegistration => ({
  command,
  // The server parses every payload with this same contract before calling the handler.
  handler: (payload: unknown) => handler(payload as Req),
});

export interface CommandServer {
  /**
   * Serves the handlers as gateway `gatewayId`: `fleet` commands in the fleet queue group,
   * `owner` commands on this gateway's own subjects. Inbound payloads are validated with the
   * contract's `parse` before a handler sees them; a malformed one is answered with an error.
   */
  serve(gatewayId: string, registrations: readonly CommandRegistration[]): Promise<void>;
  /** Stops taking commands (in-flight ones finish). */
  close(): Promise<void>;
}

export interface EventPublisher {
  /**
   * Queues the event for durable publication and returns at once. Publication is retried with
   * the same message id (deduplicated by the stream) until it succeeds or the publisher closes.
   */
  publish(event: AnyGatewayEvent): void;
  /**
   * Queues like publish() and resolves once this event (and every one queued before it) is
   * durable: what a driver waits for before acknowledging an inbound message to the network.
   * Rejects only when the publisher closes first.
   */
  publishDurably(event: AnyGatewayEvent): Promise<void>;
  /** Resolves when every queued event is durable, or rejects after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
  /** Events not yet durable (for metrics and readiness). */
  readonly pending: number;
  /**
   * The backlog reached the high-water mark and has not yet fallen under half of it: readiness
   * fails and the gateway takes no new sessions meanwhile (their events would only pile up).
   */
  readonly backlogged: boolean;
  close(): Promise<void>;
}

export type EventHandler = (event: AnyGatewayEvent) => Promise<void>;

/**
 * Thrown by an EventHandler for an event that can never be handled (the data, not the moment,
 * is wrong): the consumer moves it to the dead letters at once instead of redelivering it.
 */
export class PoisonEventError extends Error {}

export interface EventConsumer {
  /**
   * Consumes the stream under a durable name shared by every API replica: each event is handled
   * by one replica, at least once, in stream order per replica; it is acknowledged only after
   * `handler` resolves. A rejection means redelivery after a backoff, up to `maxDeliveries`
   * deliveries; then the event moves to the dead letters. So does, at once, an event that is
   * not a valid event (the handler never sees it) or whose handler threw PoisonEventError.
   * Events the API itself put on the stream (`isApiEventType`) are acknowledged without
   * calling `handler`.
   */
  consume(durableName: string, handler: EventHandler): Promise<void>;
  close(): Promise<void>;
}
