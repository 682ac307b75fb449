import { headers as natsHeaders } from '@nats-io/transport-node';
import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import {
  DEFAULT_NATS_PREFIX,
  subjects,
  type CommandContract,
  type Subjects,
} from '@wagw/contracts';
import { lastValueFrom, timeout, TimeoutError } from 'rxjs';
import {
  CommandUnavailableError,
  type CommandClient,
  type RequestOptions,
} from '../messaging.ports.js';
import { errorFromReply, isCommandErrorReply } from '../shared/command-error.reply.js';
import { commandSubject } from '../shared/command-routing.util.js';
import { describeError } from '../shared/messaging.logger.js';
import { currentRequestId, REQUEST_ID_HEADER } from '../shared/request-context.js';
import { natsConnectionOptions, type NatsEndpoint } from './nats-connection.options.js';

export interface NatsCommandClientOptions extends NatsEndpoint {
  /** NATS_PREFIX; default `wagw`. */
  prefix?: string;
}

/**
 * Request/reply over Nest's `ClientNats` (a product requirement: the Nest packet format is the
 * wire format, so a Nest `@MessagePattern` service could answer too). The connection opens on
 * the first request (or `connect()`) and reconnects forever.
 */
export class NatsCommandClient implements CommandClient {
  private readonly proxy: ClientNats;
  private readonly subjects: Subjects;
  private status: string | null = null;

  constructor(options: NatsCommandClientOptions) {
    this.subjects = subjects(options.prefix ?? DEFAULT_NATS_PREFIX);
    this.proxy = new ClientNats(natsConnectionOptions(options));
    this.proxy.status.subscribe((status) => (this.status = status));
  }

  /** Connected right now; null while never opened (no request made yet). */
  get isUp(): boolean | null {
    return this.status === null ? null : this.status === 'connected';
  }

  /** Optional: connect ahead of the first request (waits until NATS is reachable). */
  async connect(): Promise<void> {
    await this.proxy.connect();
  }

  async request<Req, Res>(
    command: CommandContract<Req, Res>,
    payload: Req,
    options: RequestOptions,
  ): Promise<Res> {
    const subject = commandSubject(this.subjects, command, options.gatewayId);
    // Nest refuses a nullish payload with an InvalidMessageException, which would otherwise
    // look like transport trouble below: it's the caller's bug.
    if (payload === undefined || payload === null) {
      throw new TypeError(`${command.pattern}: payload is required`);
    }
    try {
      // A handler returning nothing completes the stream without a value: that's a reply too.
      // The HTTP request's correlation id travels as a header; the payload stays the contract's.
      const requestId = currentRequestId();
      let packet: unknown = payload;
      if (requestId !== undefined) {
        const headers = natsHeaders();
        headers.set(REQUEST_ID_HEADER, requestId);
        packet = new NatsRecordBuilder(payload).setHeaders(headers).build();
      }
      const reply = await lastValueFrom(
        this.proxy.send<Res, unknown>(subject, packet).pipe(timeout(options.timeoutMs)),
        { defaultValue: undefined },
      );
      return reply as Res;
    } catch (err) {
      // A tagged refusal means a gateway answered: the request itself is wrong.
      if (isCommandErrorReply(err)) throw errorFromReply(err);
      // Anything else means no gateway answered: a timeout, "no responders" (Nest turns NATS's
      // empty 503 reply into EmptyResponseException), a lost connection (Nest rejects with a
      // bare string while reconnecting), or Nest's "no handler" packet. All safe to retry.
      const reason =
        err instanceof TimeoutError
          ? `no reply within ${options.timeoutMs} ms`
          : `not delivered: ${describeError(err)}`;
      throw new CommandUnavailableError(`${command.pattern} on ${subject}: ${reason}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    await this.proxy.close();
  }
}
