import type {
  WaConnection,
  WaConnectionFactory,
  WaConnectionOptions,
} from '../whatsapp-connection.port.js';
import { SimulatedConnection } from './simulated.connection.js';
import { SocketHeartbeat } from './socket.heartbeat.js';

export interface SimulatedConnectionFactoryOptions {
  /** How long a request (send, read, pairing code...) waits for the network; default 10 s. */
  requestTimeoutMs?: number;
  /** Ping interval of the shared heartbeat; a socket silent for two intervals is dropped (408). */
  pingIntervalMs?: number;
}

/** Connections to the simulated WhatsApp network (`@wagw/wa-sim`) at `url` (`ws://host:port/ws`). */
export class SimulatedConnectionFactory implements WaConnectionFactory {
  readonly driver = 'simulated';
  private readonly heartbeat: SocketHeartbeat;
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly url: string,
    options: SimulatedConnectionFactoryOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.heartbeat = new SocketHeartbeat(options.pingIntervalMs ?? 25_000);
  }

  create(options: WaConnectionOptions): WaConnection {
    return new SimulatedConnection(options, {
      url: this.url,
      requestTimeoutMs: this.requestTimeoutMs,
      heartbeat: this.heartbeat,
    });
  }
}
