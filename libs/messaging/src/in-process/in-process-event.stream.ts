import { parseApiEvent, parsePublicEvent, type ApiEvent } from '@wagw/contracts';
import type {
  EventStream,
  EventStreamCursor,
  StreamBounds,
  StreamEntry,
} from '../event-stream.ports.js';
import { wakeOrTimeout } from '../shared/wake-or-timeout.util.js';
import type { InProcessBroker } from './in-process.broker.js';

/** The embedded mode's EventStream: positions are the broker log's sequences. */
export class InProcessEventStream implements EventStream {
  private readonly cursors = new Set<InProcessStreamCursor>();
  private closed = false;

  constructor(private readonly broker: InProcessBroker) {}

  bounds(): Promise<StreamBounds> {
    return Promise.resolve({ firstSeq: this.broker.firstSeq, lastSeq: this.broker.lastSeq });
  }

  read(fromSeq: number): EventStreamCursor {
    const cursor = new InProcessStreamCursor(this.broker, fromSeq, () =>
      this.cursors.delete(cursor),
    );
    if (this.closed) void cursor.close();
    else this.cursors.add(cursor);
    return cursor;
  }

  publish(event: ApiEvent): Promise<void> {
    // An executor that throws rejects: a closed stream or a bad event rejects like on NATS.
    return new Promise((resolve) => {
      if (this.closed) throw new Error('event stream is closed');
      parseApiEvent(event);
      this.broker.append(event.id, JSON.stringify(event));
      resolve();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.cursors].map((c) => c.close()));
  }
}

class InProcessStreamCursor implements EventStreamCursor {
  private waiter: (() => void) | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly broker: InProcessBroker,
    private seq: number,
    private readonly onClose: () => void,
  ) {
    this.unsubscribe = broker.onAppend(() => this.waiter?.());
  }

  async next(max: number, waitMs: number): Promise<StreamEntry[]> {
    if (this.closed) return [];
    if (this.seq > this.broker.lastSeq) {
      await wakeOrTimeout(waitMs, (wake) => (this.waiter = wake));
      this.waiter = null;
    }
    // Trimmed while this reader lagged: carry on from the oldest retained event.
    this.seq = Math.max(this.seq, this.broker.firstSeq);
    const entries: StreamEntry[] = [];
    while (!this.closed && entries.length < max && this.seq <= this.broker.lastSeq) {
      entries.push({ seq: this.seq, event: parse(this.broker.get(this.seq)) });
      this.seq += 1;
    }
    return entries;
  }

  close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    this.waiter?.();
    this.onClose();
    return Promise.resolve();
  }
}

function parse(data: string | undefined): StreamEntry['event'] {
  if (data === undefined) return null;
  try {
    return parsePublicEvent(JSON.parse(data));
  } catch {
    return null;
  }
}
