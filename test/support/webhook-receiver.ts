import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this receiver answered. */
  status: number;
  at: number;
}

/**
 * A real HTTP endpoint for webhook deliveries: answers what `respond` says (a status, or a
 * status and headers) and records every request with its answer.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: (req: {
    body: string;
    headers: IncomingHttpHeaders;
    n: number;
  }) => number | { status: number; headers?: Record<string, string> } = () => 200;
  private server: Server | null = null;
  url = '';

  async start(host = '127.0.0.1'): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const answer = this.respond({ body, headers: req.headers, n: this.requests.length + 1 });
        const { status, headers } = typeof answer === 'number' ? { status: answer } : answer;
        this.requests.push({ headers: req.headers, body, status, at: Date.now() });
        res.writeHead(status, headers).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, host, r));
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Requests answered 2xx: each one a delivered event. */
  get delivered(): ReceivedRequest[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  /** The events delivered (answered 2xx), parsed. */
  deliveredEvents(): {
    id: string;
    type: string;
    organizationId: string;
    sessionId: string | null;
  }[] {
    return this.delivered.map((r) => JSON.parse(r.body) as never);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
  }
}
