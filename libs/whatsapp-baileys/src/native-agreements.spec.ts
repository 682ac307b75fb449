import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as libsignalCurve from 'libsignal/src/curve.js';
import { keepX25519Keys, type LibsignalCurve } from './native-agreements.js';

const original: LibsignalCurve = {
  generateKeyPair: libsignalCurve.generateKeyPair,
  calculateAgreement: libsignalCurve.calculateAgreement,
};
const kept: LibsignalCurve = { ...original };
keepX25519Keys(kept, undefined, 8);

const errorOf = (f: () => unknown): string => {
  try {
    f();
    return 'no error';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('keepX25519Keys', () => {
  it('agrees with libsignal on the keys both generate, in both directions', () => {
    for (let i = 0; i < 20; i++) {
      const [a, b] = i % 2 ? [kept, original] : [original, kept];
      const alice = a.generateKeyPair();
      const bob = b.generateKeyPair();
      const shared = original.calculateAgreement(bob.pubKey, alice.privKey);
      expect(kept.calculateAgreement(bob.pubKey, alice.privKey)).toEqual(shared);
      expect(kept.calculateAgreement(alice.pubKey, bob.privKey)).toEqual(shared);
      expect(original.calculateAgreement(alice.pubKey, bob.privKey)).toEqual(shared);
    }
  });

  it('generates pairs as libsignal does: a type-5 public key of 33 bytes, a 32-byte private key', () => {
    const pair = kept.generateKeyPair();
    expect(Buffer.isBuffer(pair.pubKey) && Buffer.isBuffer(pair.privKey)).toBe(true);
    expect([pair.pubKey.length, pair.pubKey[0], pair.privKey.length]).toEqual([33, 5, 32]);
    // The public key is the private key's: a fresh import of the private key agrees.
    const peer = original.generateKeyPair();
    expect(original.calculateAgreement(peer.pubKey, pair.privKey)).toEqual(
      original.calculateAgreement(pair.pubKey, peer.privKey),
    );
  });

  it('gives the same answer for private keys it has not seen, and after the cache turned over', () => {
    const peer = original.generateKeyPair();
    const privateKeys = Array.from({ length: 20 }, () => randomBytes(32));
    for (const round of [1, 2]) {
      for (const privKey of privateKeys) {
        expect([round, kept.calculateAgreement(peer.pubKey, privKey)]).toEqual([
          round,
          original.calculateAgreement(peer.pubKey, privKey),
        ]);
      }
    }
  });

  it('fails as libsignal fails on what is not a usual key', () => {
    const pair = original.generateKeyPair();
    const bad: [Uint8Array, Uint8Array][] = [
      [pair.pubKey.subarray(1), pair.privKey], // no type byte: libsignal warns and goes on
      [Buffer.concat([Buffer.of(6), pair.pubKey.subarray(1)]), pair.privKey],
      [pair.pubKey, pair.privKey.subarray(1)],
      [pair.pubKey, new Uint8Array(pair.privKey)],
      [new Uint8Array(pair.pubKey), pair.privKey],
    ];
    const warn = console.error;
    console.error = () => undefined;
    try {
      for (const [pub, priv] of bad) {
        expect(errorOf(() => kept.calculateAgreement(pub, priv))).toBe(
          errorOf(() => original.calculateAgreement(pub, priv)),
        );
      }
    } finally {
      console.error = warn;
    }
  });

  it("gives Baileys' Curve the same wrappers over the kept functions", () => {
    const baileysCurve = {
      generateKeyPair: () => ({ private: Buffer.alloc(0), public: Buffer.alloc(0) }),
      sharedKey: (_: Uint8Array, __: Uint8Array) => Buffer.alloc(0),
    };
    keepX25519Keys({ ...original }, baileysCurve);
    const mine = baileysCurve.generateKeyPair();
    expect([mine.private.length, mine.public.length]).toEqual([32, 32]);
    const peer = original.generateKeyPair();
    const shared = original.calculateAgreement(peer.pubKey, mine.private);
    // Baileys hands over public keys with or without the type byte.
    expect(baileysCurve.sharedKey(mine.private, peer.pubKey)).toEqual(Buffer.from(shared));
    expect(baileysCurve.sharedKey(mine.private, peer.pubKey.subarray(1))).toEqual(
      Buffer.from(shared),
    );
    expect(
      baileysCurve.sharedKey(peer.privKey, Buffer.concat([Buffer.of(5), mine.public])),
    ).toEqual(Buffer.from(shared));
  });

  it('is applied once however often it is called', () => {
    const curve: LibsignalCurve = { ...original };
    keepX25519Keys(curve);
    const agreement = curve.calculateAgreement;
    keepX25519Keys(curve);
    expect(curve.calculateAgreement).toBe(agreement);
  });
});
