import type { WebSocket } from 'ws';

/**
 * Detects dead network paths for every socket of one factory with a single interval (not one
 * timer per connection): each tick pings, and a socket that did not answer the previous ping is
 * reported dead and terminated.
 */
export class SocketHeartbeat {
  private readonly sockets = new Map<WebSocket, { alive: boolean; onDead: () => void }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  add(ws: WebSocket, onDead: () => void): void {
    const entry = { alive: true, onDead };
    this.sockets.set(ws, entry);
    ws.on('pong', () => {
      entry.alive = true;
    });
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  delete(ws: WebSocket): void {
    this.sockets.delete(ws);
    if (this.sockets.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    for (const [ws, entry] of this.sockets) {
      // Not open yet (handshake) or already closing: the handshake timeout / close handles it.
      if (ws.readyState !== ws.OPEN) continue;
      if (!entry.alive) {
        this.sockets.delete(ws);
        entry.onDead();
        ws.terminate();
        continue;
      }
      entry.alive = false;
      ws.ping();
    }
  }
}
