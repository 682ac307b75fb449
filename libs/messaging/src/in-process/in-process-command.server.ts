import { isSafeGatewayId } from '@wagw/contracts';
import type { CommandRegistration, CommandServer } from '../messaging.ports.js';
import { dispatchCommand } from '../shared/command.dispatcher.js';
import { InFlightTracker } from '../shared/in-flight.tracker.js';
import { nestMessagingLogger, type MessagingLogger } from '../shared/messaging.logger.js';
import type { InProcessBroker } from './in-process.broker.js';

export interface InProcessCommandServerOptions {
  /** How long close() lets in-flight handlers finish; default 10 s. */
  gracePeriodMs?: number;
  logger?: MessagingLogger;
}

/** The embedded mode's CommandServer: same parse-first dispatch as the NATS server. */
export class InProcessCommandServer implements CommandServer {
  private readonly inFlight = new InFlightTracker();
  private readonly log: MessagingLogger;
  private unregister: (() => void) | null = null;
  private state: 'idle' | 'serving' | 'closed' = 'idle';

  constructor(
    private readonly broker: InProcessBroker,
    private readonly options: InProcessCommandServerOptions = {},
  ) {
    this.log = options.logger ?? nestMessagingLogger(InProcessCommandServer.name);
  }

  serve(gatewayId: string, registrations: readonly CommandRegistration[]): Promise<void> {
    // An executor that throws rejects the promise: a bad registration rejects like on NATS.
    return new Promise((resolve) => {
      this.register(gatewayId, registrations);
      resolve();
    });
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.unregister?.();
    this.unregister = null;
    const gracePeriodMs = this.options.gracePeriodMs ?? 10_000;
    if (!(await this.inFlight.idle(gracePeriodMs))) {
      this.log.warn({ inFlight: this.inFlight.size }, 'closing with commands still running');
    }
  }

  private register(gatewayId: string, registrations: readonly CommandRegistration[]): void {
    if (this.state !== 'idle') throw new Error(`command server is already ${this.state}`);
    if (!isSafeGatewayId(gatewayId)) throw new Error(`invalid gateway id: ${gatewayId}`);
    this.unregister = this.broker.serve(
      gatewayId,
      registrations.map((registration) => ({
        command: registration.command,
        handle: (payload: unknown) =>
          this.inFlight.run(() => dispatchCommand(registration, payload, this.log)),
      })),
    );
    this.state = 'serving';
  }
}
