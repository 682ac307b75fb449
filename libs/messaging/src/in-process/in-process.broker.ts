import { subjects, type CommandContract } from '@wagw/contracts';
import { commandSubject } from '../shared/command-routing.util.js';
import type { DeadLetterReason } from '../shared/dead-letter.policy.js';
import type { DispatchResult } from '../shared/command.dispatcher.js';
import { InProcessDurableGroup, type InProcessEventLog } from './in-process-durable.group.js';
import type { InProcessEventStore } from './file-event-log.store.js';

export interface InProcessBrokerOptions {
  /** Events kept in memory, oldest dropped first like the stream's limits (trimmed in ~10%
   * chunks, so up to 10% more are kept); default 100 000. */
  maxRetainedEvents?: number;
  /** A re-published event id within this window is dropped, like JetStream's; default 2 min. */
  duplicateWindowMs?: number;
  /** Dead letters kept in memory, oldest dropped first; default 10 000. */
  maxDeadLetters?: number;
  /**
   * Keeps the log and the durable groups' positions across restarts (`npm start`: a file log
   * in DATA_DIR). Without one they live in memory only.
   */
  store?: InProcessEventStore;
}

/** An event a durable gave up on: what the NATS dead-letter stream holds, in memory. */
export interface InProcessDeadLetter {
  durable: string;
  seq: number;
  /** The event as it was on the wire. */
  data: string;
  deliveries: number;
  reason: DeadLetterReason;
  error: string;
  at: number;
}

/** A served command: the payload arrives JSON round-tripped, as off the wire. */
export type InProcessCommandHandler = (payload: unknown) => Promise<DispatchResult>;

export interface InProcessRoute {
  command: CommandContract<unknown, unknown>;
  handle: InProcessCommandHandler;
}

/** Same subject scheme and id validation as NATS, under a prefix no NATS will ever see. */
const routing = subjects('inproc');

/**
 * What NATS + JetStream are to the distributed setup, for the embedded one (one per process):
 * a command routing table (fleet commands round-robin over the servers serving them, owner
 * commands to the server serving that gateway id) and an append-only event log with
 * per-durable cursors.
 */
export class InProcessBroker implements InProcessEventLog {
  private readonly fleet = new Map<string, { handlers: InProcessCommandHandler[]; next: number }>();
  private readonly owned = new Map<string, InProcessCommandHandler>();
  private readonly events: string[] = [];
  private offset = 1;
  private readonly recentIds = new Map<string, number>();
  private readonly groups = new Map<string, InProcessDurableGroup>();
  private readonly maxRetainedEvents: number;
  private readonly duplicateWindowMs: number;
  private readonly maxDeadLetters: number;
  private readonly dead: InProcessDeadLetter[] = [];
  private readonly store: InProcessEventStore | undefined;
  private readonly appendListeners = new Set<() => void>();

  constructor(options: InProcessBrokerOptions = {}) {
    this.maxRetainedEvents = options.maxRetainedEvents ?? 100_000;
    this.duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
    this.maxDeadLetters = options.maxDeadLetters ?? 10_000;
    this.store = options.store;
    if (this.store) {
      this.offset = this.store.restored.firstSeq;
      this.events.push(...this.store.restored.events);
      this.trim();
    }
  }

  // -- commands --

  /** Registers a server's routes; returns the function that unregisters them. */
  serve(gatewayId: string, routes: readonly InProcessRoute[]): () => void {
    const keyed = routes.map((r) => ({ ...r, key: commandSubject(routing, r.command, gatewayId) }));
    for (const [i, { key, command }] of keyed.entries()) {
      if (keyed.findIndex((r) => r.key === key) !== i)
        throw new Error(`${key} is registered twice`);
      if (command.scope === 'owner' && this.owned.has(key)) {
        throw new Error(`gateway ${gatewayId} already serves ${command.pattern} in this process`);
      }
    }
    for (const { key, command, handle } of keyed) {
      if (command.scope === 'owner') {
        this.owned.set(key, handle);
      } else {
        const entry = this.fleet.get(key) ?? { handlers: [], next: 0 };
        entry.handlers.push(handle);
        this.fleet.set(key, entry);
      }
    }
    return () => {
      for (const { key, command, handle } of keyed) {
        if (command.scope === 'owner') {
          if (this.owned.get(key) === handle) this.owned.delete(key);
          continue;
        }
        const entry = this.fleet.get(key);
        if (!entry) continue;
        entry.handlers = entry.handlers.filter((h) => h !== handle);
        if (entry.handlers.length === 0) this.fleet.delete(key);
      }
    };
  }

  /** The handler a command goes to, or undefined when nobody serves it. */
  route(
    command: CommandContract<unknown, unknown>,
    gatewayId: string | undefined,
  ): InProcessCommandHandler | undefined {
    const key = commandSubject(routing, command, gatewayId);
    if (command.scope === 'owner') return this.owned.get(key);
    const entry = this.fleet.get(key);
    if (!entry || entry.handlers.length === 0) return undefined;
    const handler = entry.handlers[entry.next % entry.handlers.length];
    entry.next = (entry.next + 1) % entry.handlers.length;
    return handler;
  }

  // -- events --

  get firstSeq(): number {
    return this.offset;
  }

  get lastSeq(): number {
    return this.offset + this.events.length - 1;
  }

  get(seq: number): string | undefined {
    return this.events[seq - this.offset];
  }

  /** Appends an encoded event; returns its sequence, or null for a duplicate id. */
  append(eventId: string, data: string): number | null {
    const now = Date.now();
    for (const [id, expiresAt] of this.recentIds) {
      if (expiresAt > now) break;
      this.recentIds.delete(id);
    }
    if (this.recentIds.has(eventId)) return null;
    this.recentIds.set(eventId, now + this.duplicateWindowMs);
    // Stored first: an event is in memory (and delivered) only once it is as durable as the log.
    this.store?.append(this.lastSeq + 1, data);
    this.events.push(data);
    this.trim();
    for (const group of this.groups.values()) group.dispatch();
    for (const listener of this.appendListeners) listener();
    return this.lastSeq;
  }

  /** Events consumers gave up on, oldest first (they are also logged). */
  get deadLetters(): readonly InProcessDeadLetter[] {
    return this.dead;
  }

  deadLetter(letter: InProcessDeadLetter): void {
    this.dead.push(letter);
    if (this.dead.length > this.maxDeadLetters) this.dead.shift();
  }

  /**
   * The durable group of that name, created on first use: from its saved position when the
   * store has one, else from the log's head.
   */
  durable(name: string): InProcessDurableGroup {
    let group = this.groups.get(name);
    if (!group) {
      const store = this.store;
      group = new InProcessDurableGroup(name, this, {
        startSeq: store?.cursor(name),
        onProgress: store ? (nextSeq) => store.saveCursor(name, nextSeq) : undefined,
      });
      this.groups.set(name, group);
    }
    return group;
  }

  /** Called after every append (readers of the log waiting for new events); returns unsubscribe. */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Saves the durable positions and closes the store (process shutdown). */
  close(): void {
    for (const group of this.groups.values()) group.dispose();
    this.store?.close();
  }

  /** Trimmed in chunks of ~10%: splicing the head off a 100k array on every append is O(n). */
  private trim(): void {
    const slack = Math.max(1, Math.floor(this.maxRetainedEvents / 10));
    if (this.events.length < this.maxRetainedEvents + slack) return;
    const drop = this.events.length - this.maxRetainedEvents;
    this.events.splice(0, drop);
    this.offset += drop;
    this.store?.trim(this.offset);
  }
}
