import type { WaConnectionListener } from './whatsapp-connection.port.js';

/** Something to do as a listener event passes (count it, free a slot); the event goes on unchanged. */
export type WaListenerTaps = {
  [K in keyof WaConnectionListener]?: (arg: Parameters<WaConnectionListener[K]>[0]) => void;
};

// Every event of the port: a new one fails to compile here until it is listed.
const EVENTS = Object.keys({
  onQr: true,
  onOpen: true,
  onClose: true,
  onMessage: true,
  onReceipt: true,
  onChannelMessage: true,
} satisfies Record<keyof WaConnectionListener, true>) as (keyof WaConnectionListener)[];

/**
 * A listener that runs each tap first, then hands the event to `listener` and returns what it
 * returns (the promise an inbound message is acknowledged on stays the listener's own).
 * Decorators of the port (metrics, connect slots) wrap the listener with this.
 */
export function tapListener(
  listener: WaConnectionListener,
  taps: WaListenerTaps,
): WaConnectionListener {
  const tapped: Partial<Record<keyof WaConnectionListener, (arg: never) => unknown>> = {};
  for (const event of EVENTS) {
    const deliver = (arg: never): unknown => listener[event](arg);
    const tap = taps[event] as ((arg: never) => void) | undefined;
    tapped[event] = tap
      ? (arg) => {
          tap(arg);
          return deliver(arg);
        }
      : deliver;
  }
  return tapped as WaConnectionListener;
}
