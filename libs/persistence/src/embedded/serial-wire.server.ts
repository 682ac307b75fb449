import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const NOTIFICATION = 0x41; // 'A': NotificationResponse
const IDLE = 0x49; // 'I': ReadyForQuery outside any transaction
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const ROLLBACK = queryMessage('ROLLBACK');
/** Linux `sun_path` holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

function queryMessage(sql: string): Buffer {
  const body = Buffer.from(`${sql}\0`);
  const head = Buffer.alloc(5);
  head[0] = 0x51; // 'Q'
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** One client connection: its unparsed input, its parsed messages waiting to run, and its state. */
class WireConnection {
  input: Buffer = Buffer.alloc(0);
  started = false;
  readonly pending: Buffer[] = [];
  closed = false;
  /** Backend messages are parsed only far enough to see each ReadyForQuery and its status. */
  private header = Buffer.alloc(5);
  private headerLength = 0;
  private skip = 0;
  private sawType = 0;
  /** The body of a NotificationResponse being read, kept whole to pass on. */
  private notification: Buffer[] = [];
  /** The last message it ran ended on a ReadyForQuery outside any transaction. */
  idle = true;

  constructor(
    readonly socket: Socket,
    /** A whole NotificationResponse message the backend wrote during this connection's turn. */
    private readonly onNotification: (message: Buffer) => void = () => undefined,
  ) {}

  observeOutput(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, chunk.length - offset);
        if (this.sawType === READY_FOR_QUERY && take > 0 && this.skip === 1)
          this.idle = chunk[offset] === IDLE;
        if (this.sawType === NOTIFICATION)
          this.notification.push(Buffer.from(chunk.subarray(offset, offset + take)));
        this.skip -= take;
        offset += take;
        if (this.sawType === NOTIFICATION && this.skip === 0) {
          this.onNotification(Buffer.concat(this.notification));
          this.notification = [];
        }
        continue;
      }
      const take = Math.min(5 - this.headerLength, chunk.length - offset);
      Buffer.from(chunk.buffer, chunk.byteOffset + offset, take).copy(
        this.header,
        this.headerLength,
      );
      this.headerLength += take;
      offset += take;
      if (this.headerLength === 5) {
        this.sawType = this.header[0] ?? 0;
        this.skip = this.header.readInt32BE(1) - 4;
        this.headerLength = 0;
        if (this.sawType === NOTIFICATION) this.notification = [Buffer.from(this.header)];
      }
    }
  }
}

/**
 * Serves the embedded PGlite database over the Postgres wire protocol to any number of `pg`
 * connections, correctly. PGlite is ONE backend: it has one unnamed prepared statement, one
 * unnamed portal and one transaction. So a connection holds the backend exclusively from its
 * first message until the backend reports ReadyForQuery outside a transaction: a whole
 * Parse/Bind/Execute/Sync exchange and a whole transaction run without any other connection's
 * message in between. Connections take turns in arrival order. A connection that dies while
 * holding the backend is synced and rolled back before anyone else runs.
 *
 * LISTEN/NOTIFY: the one backend delivers a notification in the output of whichever
 * connection runs when it commits (usually the notifier's), so each NotificationResponse is
 * also passed to every other connection, as Postgres would deliver it to each listening
 * backend. `pg` clients ignore notifications on channels nobody listens to.
 *
 * It listens on a Unix socket only (in the 0700 data directory): no TCP port, no password to
 * leak, only the owner of the data directory can connect.
 */
export class SerialWireServer {
  private readonly server: Server;
  private readonly connections = new Set<WireConnection>();
  private readonly waiting: WireConnection[] = [];
  private holder: WireConnection | null = null;
  private draining = false;

  constructor(private readonly db: PGlite) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(socketPath: string): Promise<void> {
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(
        `the embedded database socket path is too long (${socketPath}); use a shorter DATA_DIR`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.socket.destroy();
    await closed;
    // Let the rollback of a connection that was mid-transaction finish before PGlite closes.
    while (this.draining) await new Promise((resolve) => setImmediate(resolve));
  }

  private accept(socket: Socket): void {
    const connection = new WireConnection(socket, (message) => this.broadcast(connection, message));
    this.connections.add(connection);
    socket.on('data', (chunk: Buffer) => this.received(connection, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      connection.closed = true;
      connection.pending.length = 0;
      this.connections.delete(connection);
      const index = this.waiting.indexOf(connection);
      if (index >= 0) this.waiting.splice(index, 1);
      this.kick();
    });
  }

  private broadcast(from: WireConnection, message: Buffer): void {
    for (const other of this.connections) {
      if (other !== from && other.started && !other.closed && other.socket.writable)
        other.socket.write(message);
    }
  }

  private received(connection: WireConnection, chunk: Buffer): void {
    connection.input =
      connection.input.length === 0 ? chunk : Buffer.concat([connection.input, chunk]);
    for (;;) {
      const message = this.nextMessage(connection);
      if (!message) break;
      if (message.length === 0) continue;
      connection.pending.push(message);
    }
    if (
      connection.pending.length > 0 &&
      this.holder !== connection &&
      !this.waiting.includes(connection)
    ) {
      this.waiting.push(connection);
    }
    this.kick();
  }

  /** The next complete message, an empty buffer for one handled here, or null for "need more". */
  private nextMessage(connection: WireConnection): Buffer | null {
    const input = connection.input;
    if (!connection.started) {
      if (input.length < 8) return null;
      const length = input.readInt32BE(0);
      if (input.length < length) return null;
      const code = input.readInt32BE(4);
      connection.input = input.subarray(length);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        connection.socket.write('N');
        return Buffer.alloc(0);
      }
      if (code === CANCEL_REQUEST) {
        connection.socket.destroy();
        return null;
      }
      connection.started = true;
      return input.subarray(0, length);
    }
    if (input.length < 5) return null;
    const length = 1 + input.readInt32BE(1);
    if (input.length < length) return null;
    connection.input = input.subarray(length);
    if (input[0] === TERMINATE) {
      connection.socket.end();
      return Buffer.alloc(0);
    }
    return input.subarray(0, length);
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drain().finally(() => {
      this.draining = false;
      // Work that arrived while the loop was finishing.
      if (this.runnable()) this.kick();
    });
  }

  private runnable(): boolean {
    const holder = this.holder;
    if (holder) return holder.closed || holder.pending.length > 0;
    return this.waiting.length > 0;
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.holder?.closed) {
        await this.reset(this.holder);
        this.holder = null;
      }
      const connection = this.holder ?? this.waiting.shift();
      if (!connection) return;
      const message = connection.pending.shift();
      if (!message) {
        // The holder is mid-exchange or mid-transaction: everyone waits for its next message.
        return;
      }
      this.holder = connection;
      try {
        await this.run(connection, message);
      } catch {
        connection.socket.destroy();
        connection.closed = true;
        continue;
      }
      if (connection.idle && !connection.closed) {
        this.holder = null;
        if (connection.pending.length > 0) this.waiting.push(connection);
      }
    }
  }

  private async run(connection: WireConnection, message: Buffer): Promise<void> {
    connection.idle = false;
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          connection.observeOutput(data);
          if (!connection.closed && connection.socket.writable)
            connection.socket.write(Buffer.from(data));
        },
      }),
    );
  }

  /**
   * A holder died mid-exchange or mid-transaction: put the backend back to idle, discarding the
   * output. `pg` writes Parse..Sync in one go, so a death between them is rare; Sync then ends
   * that exchange as the client asked, and ROLLBACK undoes any transaction it left open.
   */
  private async reset(connection: WireConnection): Promise<void> {
    if (connection.idle) return;
    const discard = new WireConnection(connection.socket);
    discard.closed = true;
    for (const message of [SYNC, ROLLBACK]) {
      await this.run(discard, message).catch(() => undefined);
      if (discard.idle) return;
    }
  }
}
