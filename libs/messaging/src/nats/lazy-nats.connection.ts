import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsConnectionOptions, type NatsEndpoint } from './nats-connection.options.js';

/**
 * The JetStream connection shared by a process's publisher and consumer, opened on first use:
 * the API never publishes and a gateway never consumes, so neither pays for what it doesn't
 * use. `get()` waits (forever, see natsConnectionOptions) until NATS is reachable.
 */
export class LazyNatsConnection {
  private pending: Promise<NatsConnection> | null = null;
  private connected: NatsConnection | null = null;
  private up = false;
  private closed = false;

  constructor(private readonly endpoint: NatsEndpoint) {}

  get(): Promise<NatsConnection> {
    if (this.closed) return Promise.reject(new Error('NATS connection closed'));
    if (!this.pending) {
      this.pending = connect(natsConnectionOptions(this.endpoint));
      this.pending.then(
        (nc) => {
          // Closed while the first connect was still waiting for NATS: don't leak it.
          if (this.closed) {
            void nc.close();
            return;
          }
          this.connected = nc;
          this.up = true;
          void this.track(nc);
        },
        () => {
          this.pending = null;
        },
      );
    }
    return this.pending;
  }

  /** Connected right now; null while never opened (nobody needed it yet). */
  get isUp(): boolean | null {
    return this.pending === null && this.connected === null ? null : this.up;
  }

  private async track(nc: NatsConnection): Promise<void> {
    void nc.closed().then(() => (this.up = false));
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.up = false;
      else if (status.type === 'reconnect') this.up = true;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const nc = this.connected;
    this.connected = null;
    if (nc) await nc.close();
  }
}
