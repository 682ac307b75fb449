import type * as BaileysModule from '@whiskeysockets/baileys';
import { keepX25519Keys } from './native-agreements.js';
import { useNativeSignatureCheck } from './native-signatures.js';

export type Baileys = typeof BaileysModule;
let loaded: Promise<Baileys> | null = null;

/**
 * Baileys is ESM-only and heavy (protobufs, libsignal): loaded on first use, with libsignal's
 * signature checks made native (`native-signatures.ts`) and its X25519 keys kept as Node key
 * objects (`native-agreements.ts`).
 */
export function loadBaileys(): Promise<Baileys> {
  // The same module instance libsignal requires: one copy in the tree, one loader's cache
  // (Node's, or a test runner's own registry).
  return (loaded ??= Promise.all([
    import('@whiskeysockets/baileys'),
    import('curve25519-js'),
    import('libsignal/src/curve.js'),
  ]).then(([baileys, curveJs, libsignalCurve]) => {
    useNativeSignatureCheck(curveJs.default);
    keepX25519Keys(libsignalCurve.default, baileys.Curve);
    return baileys;
  }));
}
