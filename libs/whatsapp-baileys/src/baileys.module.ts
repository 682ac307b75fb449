import type * as BaileysModule from '@whiskeysockets/baileys';

export type Baileys = typeof BaileysModule;
let loaded: Promise<Baileys> | null = null;

/** Baileys is ESM-only and heavy (protobufs, libsignal): loaded on first use. */
export function loadBaileys(): Promise<Baileys> {
  return (loaded ??= import('@whiskeysockets/baileys'));
}
