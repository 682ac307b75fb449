import { xeddsaVerify } from '@wagw/xeddsa';

/** The part of `curve25519-js` libsignal verifies with. */
export interface CurveJs {
  verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;
}

const NATIVE = Symbol.for('wagw.nativeXeddsaVerify');

/**
 * Baileys checks Signal signatures through libsignal, which verifies XEdDSA in pure JavaScript
 * (`curve25519-js`): about 17 ms of CPU per signature on a 2-core machine, and every login checks
 * two (the server's certificate chain in the Noise handshake), every pairing one more, every group
 * message its sender key's: about a third of a login's CPU in a takeover (README, bench:fleet).
 *
 * This gives the `curve25519-js` that libsignal loaded a `verify` backed by Node's native Ed25519
 * (`@wagw/xeddsa`: well under a millisecond). Same arguments, same errors for wrong types and
 * lengths, same answer for every signature XEdDSA produces (spec: agrees with the original on
 * valid, tampered and foreign signatures); stricter only for malformed input the original lets
 * through (a non-canonical `s`, a key ≥ p), which it rejects. Idempotent.
 */
export function useNativeSignatureCheck(curve: CurveJs): void {
  if ((curve.verify as { [NATIVE]?: boolean })[NATIVE]) return;
  const original = curve.verify;
  const verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
    // Anything but bytes: the original's own type error, word for word.
    if (![message, signature, publicKey].every(isBytes))
      return original(publicKey, message, signature);
    if (signature.length !== 64) throw new Error('wrong signature length');
    if (publicKey.length !== 32) throw new Error('wrong public key length');
    return xeddsaVerify(publicKey, message, signature);
  };
  Object.assign(verify, { [NATIVE]: true });
  curve.verify = verify;
}

const isBytes = (value: unknown): boolean =>
  Object.prototype.toString.call(value) === '[object Uint8Array]';
