import { createPublicKey, verify } from 'node:crypto';

const P = 2n ** 255n - 19n;
/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Verifies a Curve25519 (XEdDSA, Signal's curve25519-sign format) signature for real:
 * the Montgomery key is mapped to its Edwards form (y = (u - 1) / (u + 1)), the sign bit is
 * taken from bit 7 of the signature's last byte, and Node's Ed25519 verifies. Independent of
 * Baileys' `Curve.verify`, which accepts any 64-byte signature.
 */
export function xeddsaVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = publicKey.length === 33 && publicKey[0] === 5 ? publicKey.subarray(1) : publicKey;
  if (key.length !== 32 || signature.length !== 64) return false;
  const u = fromLittleEndian(key) & ((1n << 255n) - 1n);
  if (u >= P || (u + 1n) % P === 0n) return false;
  const y = mod((u - 1n) * inverse(u + 1n));
  const edwards = toLittleEndian(y);
  const sig = Buffer.from(signature);
  edwards[31] = (edwards[31] ?? 0) | ((sig[63] ?? 0) & 0x80);
  sig[63] = (sig[63] ?? 0) & 0x7f;
  try {
    const spki = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, edwards]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, message, spki, sig);
  } catch {
    return false;
  }
}

function mod(n: bigint): bigint {
  const r = n % P;
  return r < 0n ? r + P : r;
}

function inverse(n: bigint): bigint {
  let result = 1n;
  let base = mod(n);
  let exp = P - 2n;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % P;
    base = (base * base) % P;
    exp >>= 1n;
  }
  return result;
}

function fromLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  return n;
}

function toLittleEndian(n: bigint): Buffer {
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
