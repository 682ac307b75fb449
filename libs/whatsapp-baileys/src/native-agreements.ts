import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
} from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** The part of libsignal's `curve` module that libsignal's sessions agree keys with. */
export interface LibsignalCurve {
  calculateAgreement: (pubKey: Uint8Array, privKey: Uint8Array) => Uint8Array;
}

/**
 * Baileys' own `Curve` (the Noise handshake's): its wrappers over libsignal's functions, which
 * it imports as an ES module namespace, a copy taken at load time that no patch reaches.
 */
export interface BaileysCurve {
  sharedKey: (privateKey: Uint8Array, publicKey: Uint8Array) => Buffer;
}

const FAST = Symbol.for('wagw.keptX25519Keys');
const PRIVATE_KEY_DER_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** Signal's public keys carry a type byte: 5 is Curve25519. */
const DJB_TYPE = 5;

/**
 * libsignal (Baileys' Noise handshake and every Signal session) computes each X25519 agreement
 * by importing both raw keys as DER first; on Node 20 (OpenSSL 3's decoders) a private key's
 * import costs ≈ 0.37 ms and a public key's ≈ 0.08 ms, against 0.035 ms for the agreement
 * itself.
 *
 * This keeps the private keys libsignal agrees with as Node key objects after their first import
 * (a bounded cache found by the key's SHA-256, so no key material becomes a cache key) and
 * imports public keys from their raw bytes as JWK. Same arguments, results and errors: anything
 * but a 32-byte private key and a type-5 public key as Buffers goes to the original. Baileys'
 * `Curve` gets its own `sharedKey` wrapper again, over this one. Key generation stays
 * libsignal's: generating a pair as key objects and exporting it as JWK (faster still) can
 * deadlock Node 20 — the JWK export holds the key's mutex while it allocates, a GC then destroys
 * the generating job, whose destructor takes the same mutex (seen: an embedded gateway's main
 * thread stuck in `ExportJWKEdKey` → GC → `~KeyGenJob` → `uv_mutex_lock`). Idempotent.
 */
export function keepX25519Keys(
  curve: LibsignalCurve,
  baileysCurve?: BaileysCurve,
  capacity = 4096,
): void {
  if (baileysCurve) {
    // As Baileys wraps libsignal (Utils/crypto.ts), over the function set below.
    baileysCurve.sharedKey = (privateKey, publicKey) =>
      Buffer.from(
        curve.calculateAgreement(
          publicKey.length === 33 ? publicKey : Buffer.concat([Buffer.of(DJB_TYPE), publicKey]),
          privateKey,
        ),
      );
  }
  if ((curve.calculateAgreement as { [FAST]?: boolean })[FAST]) return;
  const original = curve.calculateAgreement;
  const keys = new LRUCache<string, KeyObject>({ max: capacity });
  const idOf = (privKey: Buffer): string => createHash('sha256').update(privKey).digest('base64');

  const calculateAgreement = (pubKey: Uint8Array, privKey: Uint8Array): Uint8Array => {
    const usual =
      Buffer.isBuffer(pubKey) &&
      pubKey.length === 33 &&
      pubKey[0] === DJB_TYPE &&
      Buffer.isBuffer(privKey) &&
      privKey.length === 32;
    if (!usual) return original(pubKey, privKey);
    const id = idOf(privKey);
    let privateKey = keys.get(id);
    if (!privateKey) {
      privateKey = createPrivateKey({
        key: Buffer.concat([PRIVATE_KEY_DER_PREFIX, privKey]),
        format: 'der',
        type: 'pkcs8',
      });
      keys.set(id, privateKey);
    }
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: pubKey.subarray(1).toString('base64url') },
      format: 'jwk',
    });
    return diffieHellman({ privateKey, publicKey });
  };
  Object.assign(calculateAgreement, { [FAST]: true });
  curve.calculateAgreement = calculateAgreement;
}
