import type { CommandContract } from '@wagw/contracts';
import {
  CommandUnavailableError,
  type CommandClient,
  type RequestOptions,
} from '../messaging.ports.js';
import { errorFromReply } from '../shared/command-error.reply.js';
import type { InProcessBroker } from './in-process.broker.js';
import { jsonRoundTrip } from './json-round-trip.util.js';

/**
 * The embedded mode's CommandClient. With nobody serving the command it fails at once (NATS
 * does the same through "no responders"), otherwise after `timeoutMs` like on the wire. The
 * handler is not cancelled by a timeout (it isn't on NATS either): commands are idempotent
 * nudges.
 */
export class InProcessCommandClient implements CommandClient {
  private closed = false;

  constructor(private readonly broker: InProcessBroker) {}

  async request<Req, Res>(
    command: CommandContract<Req, Res>,
    payload: Req,
    options: RequestOptions,
  ): Promise<Res> {
    const handle = this.broker.route(command, options.gatewayId);
    if (this.closed) throw new CommandUnavailableError(`${command.pattern}: client is closed`);
    if (!handle) throw new CommandUnavailableError(`${command.pattern}: no gateway serves it`);
    // Payload and reply cross a JSON boundary as on NATS, so nothing works here that
    // wouldn't survive serialization (Dates, undefined fields, class instances).
    const wire = jsonRoundTrip(payload);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CommandUnavailableError(
              `${command.pattern}: no reply within ${options.timeoutMs} ms`,
            ),
          ),
        options.timeoutMs,
      );
    });
    try {
      // The handler starts on a later tick, never inside the caller's stack.
      const result = await Promise.race([
        new Promise<void>((resolve) => setImmediate(resolve)).then(() => handle(wire)),
        timedOut,
      ]);
      if (!result.ok) throw errorFromReply(result.error);
      return jsonRoundTrip(result.reply) as Res;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
