import type { BinaryNode } from '@whiskeysockets/baileys';

interface Pending {
  key: string;
  node: BinaryNode;
}

/**
 * What the network owes each companion: every stanza pushed to it (message, receipt,
 * notification) stays here until the companion acknowledges it, and everything still here is
 * pushed again at its next login, as WhatsApp redelivers unacknowledged stanzas. Keyed by the
 * account's phone number; bounded per companion (the oldest are dropped).
 */
export class CompanionOutbox {
  private readonly byPhone = new Map<string, Map<string, Pending>>();

  constructor(private readonly limit: number) {}

  /** Key of a stanza, as its acknowledgement names it. */
  static key(kind: string, id: string, type?: string): string {
    return kind === 'receipt' ? `receipt:${id}:${type ?? ''}` : `${kind}:${id}`;
  }

  add(phoneNumber: string, key: string, node: BinaryNode): void {
    let pending = this.byPhone.get(phoneNumber);
    if (!pending) {
      pending = new Map();
      this.byPhone.set(phoneNumber, pending);
    }
    pending.delete(key);
    pending.set(key, { key, node });
    if (pending.size > this.limit) pending.delete(pending.keys().next().value as string);
  }

  /** The companion acknowledged it: it is never sent again. True when it was pending. */
  acknowledge(phoneNumber: string, key: string): boolean {
    return this.byPhone.get(phoneNumber)?.delete(key) ?? false;
  }

  /** Everything still unacknowledged, oldest first. */
  pending(phoneNumber: string): BinaryNode[] {
    return [...(this.byPhone.get(phoneNumber)?.values() ?? [])].map((p) => p.node);
  }

  count(phoneNumber: string): number {
    return this.byPhone.get(phoneNumber)?.size ?? 0;
  }

  /** The device is gone (unlinked, relinked): what was encrypted for it is useless. */
  drop(phoneNumber: string): void {
    this.byPhone.delete(phoneNumber);
  }
}
