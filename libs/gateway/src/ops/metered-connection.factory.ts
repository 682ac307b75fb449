import {
  tapListener,
  type WaConnection,
  type WaConnectionFactory,
  type WaConnectionOptions,
  type WaSendResult,
} from '@wagw/whatsapp';
import type { GatewayMetrics } from './gateway-metrics.js';

/**
 * Counts what passes through the WhatsApp port, whatever the driver: disconnects by code (what
 * the reconnect policy acts on), messages sent (by outcome) and received. The connection and
 * the session runner are unchanged: this wraps the listener and `sendMessage`.
 */
export class MeteredConnectionFactory implements WaConnectionFactory {
  constructor(
    private readonly inner: WaConnectionFactory,
    private readonly metrics: GatewayMetrics,
  ) {}

  get driver(): string {
    return this.inner.driver;
  }

  create(options: WaConnectionOptions): WaConnection {
    const { metrics } = this;
    const connection = this.inner.create({
      ...options,
      listener: tapListener(options.listener, {
        onClose: (reason) => metrics.disconnects.inc({ code: String(reason.code) }),
        onMessage: (message) => {
          if (!message.fromMe) metrics.messagesReceived.inc();
        },
      }),
    });
    // The gateway sends through sendMessage (every content type; sendText is the adapters' own).
    const sendMessage = connection.sendMessage.bind(connection);
    connection.sendMessage = async (to, content, sendOptions): Promise<WaSendResult> => {
      try {
        const result = await sendMessage(to, content, sendOptions);
        metrics.messagesSent.inc({ outcome: 'sent' });
        return result;
      } catch (error) {
        metrics.messagesSent.inc({ outcome: 'failed' });
        throw error;
      }
    };
    return connection;
  }
}
