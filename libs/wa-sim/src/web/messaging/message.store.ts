/** A chat state a companion showed a phone (Baileys' `sendPresenceUpdate` to a chat). */
export type SimPresence = 'composing' | 'paused';

export type SimMessageStatus = 'sent' | 'delivered' | 'read';

export interface SimMessageRecord {
  id: string;
  /** Sender digits. */
  from: string;
  /** Recipient digits. */
  to: string;
  text: string;
  timestamp: number;
  status: SimMessageStatus;
  /** `gateway`: sent by a linked companion; `control`: a phone's, sent through the control API. */
  source: 'gateway' | 'control';
  deliveredAt: number | null;
  readAt: number | null;
}

export interface SimPresenceRecord {
  from: string;
  presence: SimPresence;
  timestamp: number;
}

/**
 * What the network remembers about traffic, for the control API to report. Bounded: the oldest
 * entries are forgotten first, so a long benchmark cannot grow the sim without limit.
 */
export class SimMessageStore {
  private readonly byId = new Map<string, SimMessageRecord>();
  private readonly inboxes = new Map<string, SimMessageRecord[]>();
  private readonly presencesTo = new Map<string, Map<string, SimPresenceRecord>>();

  constructor(
    private readonly maxMessages = 100_000,
    private readonly maxPerInbox = 1_000,
    private readonly maxPresenceTargets = 10_000,
  ) {}

  add(record: SimMessageRecord): void {
    this.byId.set(record.id, record);
    if (this.byId.size > this.maxMessages) {
      this.byId.delete(this.byId.keys().next().value as string);
    }
    // A phone's inbox holds what linked companions sent it; what phones sent through the control
    // API is the caller's own input and stays out of it.
    if (record.source !== 'gateway') return;
    let inbox = this.inboxes.get(record.to);
    if (!inbox) {
      inbox = [];
      this.inboxes.set(record.to, inbox);
    }
    inbox.push(record);
    if (inbox.length > this.maxPerInbox) inbox.shift();
  }

  get(id: string): SimMessageRecord | undefined {
    return this.byId.get(id);
  }

  /** Messages linked devices sent to this phone number, oldest first. */
  inbox(phoneNumber: string): readonly SimMessageRecord[] {
    return this.inboxes.get(phoneNumber) ?? [];
  }

  recordPresence(from: string, to: string, presence: SimPresence, timestamp: number): void {
    let byFrom = this.presencesTo.get(to);
    if (!byFrom) {
      byFrom = new Map();
      this.presencesTo.set(to, byFrom);
      if (this.presencesTo.size > this.maxPresenceTargets) {
        this.presencesTo.delete(this.presencesTo.keys().next().value as string);
      }
    }
    byFrom.set(from, { from, presence, timestamp });
  }

  /** The latest presence each sender showed to this phone number. */
  presences(to: string): SimPresenceRecord[] {
    return [...(this.presencesTo.get(to)?.values() ?? [])];
  }
}
