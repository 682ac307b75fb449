import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as libsignalCurve from 'libsignal/src/curve.js';
import { keepX25519Keys, type LibsignalCurve } from './native-agreements.js';

const generate = libsignalCurve.generateKeyPair;
const original: LibsignalCurve = { calculateAgreement: libsignalCurve.calculateAgreement };
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
  it('agrees with libsignal, in both directions, also on keys it has seen before', () => {
    for (let i = 0; i < 20; i++) {
      const alice = generate();
      const bob = generate();
      const shared = original.calculateAgreement(bob.pubKey, alice.privKey);
      for (let again = 0; again < 2; again++) {
        expect(kept.calculateAgreement(bob.pubKey, alice.privKey)).toEqual(shared);
        expect(kept.calculateAgreement(alice.pubKey, bob.privKey)).toEqual(shared);
      }
      expect(original.calculateAgreement(alice.pubKey, bob.privKey)).toEqual(shared);
    }
  });

  it("leaves key generation to libsignal (a JWK export of a generated key can deadlock Node 20's GC)", () => {
    const curve = { ...libsignalCurve } as unknown as LibsignalCurve & { generateKeyPair: unknown };
    keepX25519Keys(curve);
    expect(curve.generateKeyPair).toBe(generate);
  });

  it('gives the same answer for private keys it has not seen, and after the cache turned over', () => {
    const peer = generate();
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
    const pair = generate();
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

  it("gives Baileys' Curve its sharedKey over the kept agreement", () => {
    const baileysCurve = { sharedKey: (_: Uint8Array, __: Uint8Array) => Buffer.alloc(0) };
    keepX25519Keys({ ...original }, baileysCurve);
    const mine = generate();
    const peer = generate();
    const shared = Buffer.from(original.calculateAgreement(peer.pubKey, mine.privKey));
    // Baileys hands over public keys with or without the type byte.
    expect(baileysCurve.sharedKey(mine.privKey, peer.pubKey)).toEqual(shared);
    expect(baileysCurve.sharedKey(mine.privKey, peer.pubKey.subarray(1))).toEqual(shared);
  });

  it('is applied once however often it is called', () => {
    const curve: LibsignalCurve = { ...original };
    keepX25519Keys(curve);
    const agreement = curve.calculateAgreement;
    keepX25519Keys(curve);
    expect(curve.calculateAgreement).toBe(agreement);
  });
});
