import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Stops carrying bytes either way without closing anything: a silently dead network path. */
  freeze(): void;
  /** Stops carrying what clients send (the uplink) only; what the target sends still arrives. */
  freezeUpstream(): void;
  /** Carries on, delivering what was held back. */
  thaw(): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 to `target`, that a test can freeze (half-open connections). */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let frozen = false;
  let upstreamFrozen = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const carry = (from: Socket, to: Socket, upstream: boolean): void => {
    from.on('data', (chunk: Buffer) => {
      if (frozen || (upstream && upstreamFrozen)) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    carry(client, upstream, true);
    carry(upstream, client, false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    freeze: () => {
      frozen = true;
    },
    freezeUpstream: () => {
      upstreamFrozen = true;
    },
    thaw: () => {
      frozen = false;
      upstreamFrozen = false;
      for (const deliver of held.splice(0)) deliver();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
