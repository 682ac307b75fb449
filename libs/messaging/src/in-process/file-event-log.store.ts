import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Where the in-process broker keeps its event log and its durable groups' positions. Without
 * one the log lives in memory only (tests); `npm start` gives it a directory in DATA_DIR so
 * sequences, retained events and consumer positions survive a restart, as JetStream's do.
 */
export interface InProcessEventStore {
  /** What a previous run left: the first retained sequence and the events from it on. */
  readonly restored: { firstSeq: number; events: string[] };
  /** Appends event `seq` (always the previous one + 1). Synchronous: publish() stays so. */
  append(seq: number, data: string): void;
  /** Events below `firstSeq` are no longer retained; the store may drop them. */
  trim(firstSeq: number): void;
  /** A durable group's saved position (its next sequence to deliver), if any. */
  cursor(name: string): number | undefined;
  /** Records that every event below `nextSeq` was acknowledged by group `name`. */
  saveCursor(name: string, nextSeq: number): void;
  close(): void;
}

export interface FileEventLogOptions {
  /** Events per segment file; default 10 000. Retention drops whole segments. */
  segmentEvents?: number;
  /** How long cursor saves are batched; default 200 ms (a crash redelivers at most that). */
  cursorFlushMs?: number;
}

const SEGMENT = /^(\d{16})\.log$/;
const CURSORS_FILE = 'cursors.json';

/**
 * An append-only log in segment files of one JSON event per line (`<first seq>.log`), plus
 * the durable groups' positions in `cursors.json`. Writes go to the OS at once (a crashed
 * process loses nothing) but are not fsynced one by one, like JetStream's default file
 * storage: an OS crash may lose the last moments. A torn last line is cut off on open.
 */
export class FileEventLogStore implements InProcessEventStore {
  readonly restored: { firstSeq: number; events: string[] };
  private readonly segmentEvents: number;
  private readonly cursorFlushMs: number;
  private readonly segments: number[] = [];
  private fd: number | null = null;
  private segmentCount = 0;
  private readonly cursors: Record<string, number>;
  private cursorTimer: NodeJS.Timeout | null = null;
  private cursorsDirty = false;

  private constructor(
    private readonly dir: string,
    options: FileEventLogOptions,
  ) {
    this.segmentEvents = options.segmentEvents ?? 10_000;
    this.cursorFlushMs = options.cursorFlushMs ?? 200;
    mkdirSync(dir, { recursive: true });
    this.restored = this.load();
    this.cursors = this.loadCursors();
  }

  static open(dir: string, options: FileEventLogOptions = {}): FileEventLogStore {
    return new FileEventLogStore(dir, options);
  }

  append(seq: number, data: string): void {
    if (this.fd === null || this.segmentCount >= this.segmentEvents) this.startSegment(seq);
    writeSync(this.fd!, `${data}\n`);
    this.segmentCount += 1;
  }

  trim(firstSeq: number): void {
    // A segment can go once the next one starts at or below firstSeq (it holds only older events).
    while (this.segments.length > 1 && this.segments[1]! <= firstSeq) {
      rmSync(this.segmentPath(this.segments.shift()!), { force: true });
    }
  }

  cursor(name: string): number | undefined {
    return this.cursors[name];
  }

  saveCursor(name: string, nextSeq: number): void {
    if (this.cursors[name] === nextSeq) return;
    this.cursors[name] = nextSeq;
    this.cursorsDirty = true;
    if (this.cursorTimer) return;
    this.cursorTimer = setTimeout(() => this.flushCursors(), this.cursorFlushMs);
    this.cursorTimer.unref();
  }

  close(): void {
    this.flushCursors();
    if (this.fd !== null) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
    this.fd = null;
  }

  private load(): { firstSeq: number; events: string[] } {
    const names = readdirSync(this.dir)
      .map((name) => SEGMENT.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const events: string[] = [];
    let firstSeq = 1;
    for (const [i, start] of names.entries()) {
      const path = this.segmentPath(start);
      let text = readFileSync(path, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) {
        // A write torn by a crash: the event was never acknowledged to anyone, drop it.
        truncateSync(path, Buffer.byteLength(text.slice(0, end)));
        text = text.slice(0, end);
      }
      const lines = text === '' ? [] : text.slice(0, -1).split('\n');
      if (i === 0) firstSeq = start;
      else if (start !== firstSeq + events.length) {
        // A gap (a segment deleted by hand): keep only the contiguous tail, like a trimmed log.
        events.length = 0;
        firstSeq = start;
      }
      events.push(...lines);
      this.segments.push(start);
      if (i === names.length - 1) this.segmentCount = lines.length;
    }
    const last = this.segments.at(-1);
    if (last !== undefined) this.fd = openSync(this.segmentPath(last), 'a');
    return { firstSeq, events };
  }

  private loadCursors(): Record<string, number> {
    const path = join(this.dir, CURSORS_FILE);
    if (!existsSync(path)) return {};
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null) return {};
      return Object.fromEntries(
        Object.entries(parsed).filter(
          (entry): entry is [string, number] =>
            Number.isSafeInteger(entry[1]) && (entry[1] as number) > 0,
        ),
      );
    } catch {
      // A cursor file torn by a crash: durables restart from the log's head (at least once).
      return {};
    }
  }

  private startSegment(seq: number): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = openSync(this.segmentPath(seq), 'a');
    this.segments.push(seq);
    this.segmentCount = 0;
  }

  private flushCursors(): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
    if (!this.cursorsDirty) return;
    this.cursorsDirty = false;
    // Write-then-rename: a crash leaves the old file or the new one, never half of one.
    const path = join(this.dir, CURSORS_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.cursors));
    renameSync(`${path}.tmp`, path);
  }

  private segmentPath(start: number): string {
    return join(this.dir, `${String(start).padStart(16, '0')}.log`);
  }
}
