import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import curveJs from 'curve25519-js';
import { verifySignature } from 'libsignal/src/curve.js';
import { type CurveJs, useNativeSignatureCheck } from './native-signatures.js';

const pureVerify = curveJs.verify;

function signed(): { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array } {
  const pair = curveJs.generateKeyPair(randomBytes(32));
  const message = randomBytes(1 + (randomBytes(1)[0] ?? 0));
  const signature = curveJs.sign(pair.private, message, randomBytes(64));
  return { publicKey: pair.public, message, signature };
}

const flip = (bytes: Uint8Array, index: number, bit = 1): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ bit;
  return copy;
};

describe('useNativeSignatureCheck', () => {
  const native: CurveJs = { verify: pureVerify };
  useNativeSignatureCheck(native);

  it('agrees with curve25519-js on valid, tampered and foreign signatures', () => {
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 5; i++) {
      const { publicKey, message, signature } = signed();
      const other = signed();
      cases.push(
        [publicKey, message, signature],
        [publicKey, flip(message, 0), signature],
        [publicKey, message, flip(signature, 5)], // R
        [publicKey, message, flip(signature, 40)], // s
        [publicKey, message, flip(signature, 63, 0x80)], // the Edwards sign bit
        [other.publicKey, message, signature],
        [publicKey, other.message, other.signature],
      );
    }
    const answers = cases.map(([k, m, s]) => [pureVerify(k, m, s), native.verify(k, m, s)]);
    for (const [pure, fast] of answers) expect(fast).toBe(pure);
    expect(answers.filter(([pure]) => pure)).toHaveLength(5);
  });

  it('throws what curve25519-js throws for wrong lengths and types', () => {
    const { publicKey, message, signature } = signed();
    const both = (k: unknown, m: unknown, s: unknown): [string, string] => {
      const error = (verify: CurveJs['verify']): string => {
        try {
          verify(k as Uint8Array, m as Uint8Array, s as Uint8Array);
          return 'no error';
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      };
      return [error(pureVerify), error(native.verify)];
    };
    for (const [k, m, s] of [
      [publicKey, message, signature.subarray(1)],
      [publicKey.subarray(1), message, signature],
      [publicKey, 'text', signature],
      [Array.from(publicKey), message, signature],
    ]) {
      const [pure, fast] = both(k, m, s);
      expect(pure).not.toBe('no error');
      expect(fast).toBe(pure);
    }
  });

  it("is what libsignal's verifySignature uses once installed, and installs once", () => {
    const { publicKey, message, signature } = signed();
    const prefixed = Buffer.concat([Buffer.from([5]), publicKey]);
    useNativeSignatureCheck(curveJs);
    const installed = curveJs.verify;
    expect(installed).not.toBe(pureVerify);
    useNativeSignatureCheck(curveJs);
    expect(curveJs.verify).toBe(installed);
    expect(verifySignature(prefixed, message, signature)).toBe(true);
    expect(verifySignature(prefixed, flip(message, 0), signature)).toBe(false);
    curveJs.verify = pureVerify;
  });
});
