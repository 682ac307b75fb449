/** One message of a `text/event-stream` (the WHATWG "event stream interpretation"). */
export interface SseMessage {
  /** `message` unless the stream named it (`event: resync`, `event: disconnect`). */
  event: string;
  data: string;
  /** The last `id:` seen so far on the stream (the position to resume after), '' if none. */
  lastEventId: string;
}

/**
 * An incremental `text/event-stream` parser: feed it decoded text in chunks of any size, it
 * calls `onMessage` per dispatched message and `onRetry` when the server sets the reconnection
 * delay. Comments (`: keep-alive`) are skipped; CR, LF and CRLF line ends are accepted.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private lastEventId = '';
  private pendingCr = false;

  constructor(
    private readonly onMessage: (message: SseMessage) => void,
    private readonly onRetry: (ms: number) => void = () => undefined,
    initialLastEventId = '',
  ) {
    this.lastEventId = initialLastEventId;
  }

  get position(): string {
    return this.lastEventId;
  }

  push(chunk: string): void {
    let text = chunk;
    // A CRLF split across two chunks: the LF belongs to the CR already taken as a line end.
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(this.buffer.slice(start, i));
      if (c === '\r') {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.onRetry(Number(value));
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    const event = this.event || 'message';
    const data = this.data;
    this.event = '';
    this.data = [];
    if (data.length === 0) return;
    this.onMessage({ event, data: data.join('\n'), lastEventId: this.lastEventId });
  }
}
