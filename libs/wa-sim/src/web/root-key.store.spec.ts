import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Curve, proto } from '@whiskeysockets/baileys';
import { issueServerIdentity, keyPairFromPrivate, loadRootKey } from './root-key.store.js';
import { xeddsaVerify } from '@wagw/xeddsa';

describe('the WhatsApp Web root key', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-sim-root-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is generated once per data directory, kept private, and read back', () => {
    const dir = tempDir();
    const first = loadRootKey({ dataDir: dir });
    const file = join(dir, 'wa-sim-root-key.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      privateKey: Buffer.from(first.private).toString('base64'),
      publicKey: Buffer.from(first.public).toString('base64'),
    });
    const again = loadRootKey({ dataDir: dir });
    expect(Buffer.from(again.public).equals(Buffer.from(first.public))).toBe(true);
    expect(
      Buffer.from(loadRootKey({ dataDir: tempDir() }).public).equals(Buffer.from(first.public)),
    ).toBe(false);
  });

  it('a given private key wins, and its public half is the Curve25519 one', () => {
    const pair = Curve.generateKeyPair();
    const given = loadRootKey({
      rootPrivateKey: Buffer.from(pair.private).toString('base64'),
      dataDir: tempDir(),
    });
    expect(Buffer.from(given.public).equals(Buffer.from(pair.public))).toBe(true);
    expect(() => keyPairFromPrivate(Buffer.alloc(31).toString('base64'))).toThrow('32 bytes');
  });

  it('certifies the Noise static key through an intermediate, each signed with XEdDSA', () => {
    const root = Curve.generateKeyPair();
    const { certChain, noiseStatic } = issueServerIdentity(root);
    const chain = proto.CertChain.decode(certChain);
    const Details = proto.CertChain.NoiseCertificate.Details;
    const intermediate = Details.decode(chain.intermediate?.details ?? new Uint8Array());
    const leaf = Details.decode(chain.leaf?.details ?? new Uint8Array());
    expect(intermediate.issuerSerial).toBe(0);
    expect(leaf.issuerSerial).toBe(intermediate.serial);
    expect(Buffer.from(leaf.key ?? []).equals(Buffer.from(noiseStatic.public))).toBe(true);
    expect(
      xeddsaVerify(root.public, chain.intermediate!.details!, chain.intermediate!.signature!),
    ).toBe(true);
    expect(xeddsaVerify(intermediate.key!, chain.leaf!.details!, chain.leaf!.signature!)).toBe(
      true,
    );
    expect(xeddsaVerify(noiseStatic.public, chain.leaf!.details!, chain.leaf!.signature!)).toBe(
      false,
    );
  });
});
