import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire, syncBuiltinESMExports } from 'node:module';

/** The one storage every socket's key-store transactions run in, each under its own slot. */
const shared = new AsyncLocalStorage<ReadonlyMap<object, unknown>>();

/**
 * An `AsyncLocalStorage` that is a slot of the shared one: the same API and semantics (a
 * socket sees only its own transaction, nested stores see the outer ones'), but never enabled
 * itself, so it never joins Node's list of storages.
 *
 * Why: Baileys 7 gives every socket its own storage for key-store transactions and never
 * disables it (WhiskeySockets/Baileys#2806). Before Node 24, Node walks every enabled storage
 * on every promise, timer and socket the process creates; a gateway holding N sessions paid N
 * property writes per promise, plus one for every socket it ever closed — a cost that grew with
 * uptime and made a 1,000-session takeover superlinear.
 */
export class TransactionStorageSlot<T> extends AsyncLocalStorage<T> {
  override getStore(): T | undefined {
    return shared.getStore()?.get(this) as T | undefined;
  }

  override run<R>(store: T, callback: () => R): R;
  override run<R, A extends unknown[]>(store: T, callback: (...args: A) => R, ...args: A): R;
  override run<R, A extends unknown[]>(store: T, callback: (...args: A) => R, ...args: A): R {
    return shared.run(this.with(store), callback, ...args);
  }

  override exit<R, A extends unknown[]>(callback: (...args: A) => R, ...args: A): R {
    const slots = new Map(shared.getStore());
    slots.delete(this);
    return shared.run(slots, callback, ...args);
  }

  override enterWith(store: T): void {
    shared.enterWith(this.with(store));
  }

  /** Nothing of its own to disable: its stores live in the shared storage's contexts. */
  override disable(): void {}

  private with(store: T): Map<object, unknown> {
    return new Map(shared.getStore()).set(this, store);
  }
}

const hooks = createRequire(import.meta.url)('node:async_hooks') as {
  AsyncLocalStorage: typeof AsyncLocalStorage;
};

/**
 * Runs `create` (synchronous: nothing else runs meanwhile) with `AsyncLocalStorage` standing
 * for `TransactionStorageSlot`, so what Baileys' `makeWASocket` constructs is a slot of the
 * shared storage. Module code outside the window gets Node's own class.
 */
export function withSharedTransactionStorage<R>(create: () => R): R {
  const original = hooks.AsyncLocalStorage;
  hooks.AsyncLocalStorage = TransactionStorageSlot;
  syncBuiltinESMExports();
  try {
    return create();
  } finally {
    hooks.AsyncLocalStorage = original;
    syncBuiltinESMExports();
  }
}
