import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Curve, proto, type KeyPair } from '@whiskeysockets/baileys';

/** PKCS#8 DER prefix of an X25519 private key; the 32 key bytes follow. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const ROOT_KEY_FILE = 'wa-sim-root-key.json';
/** WhatsApp's chain: the intermediate is issued by root serial 0 (Baileys requires it). */
const ROOT_SERIAL = 0;
const INTERMEDIATE_SERIAL = 1;
const LEAF_SERIAL = 2;
const YEAR_S = 365 * 24 * 3600;

export interface WebRootKeyOptions {
  /** Base64 of the 32-byte Curve25519 private key (`WA_SIM_ROOT_KEY`); wins over `dataDir`. */
  rootPrivateKey?: string;
  /** Where the generated key pair is kept (`WA_SIM_DATA_DIR`); unset → a fresh key per process. */
  dataDir?: string;
}

/** The sim's trust anchor and the Noise identity it proves with a chain issued under it. */
export interface WebServerIdentity {
  root: KeyPair;
  /** The Noise static key the server handshakes with (the leaf certificate's key). */
  noiseStatic: KeyPair;
  /** `proto.CertChain` bytes: intermediate signed by the root, leaf signed by the intermediate. */
  certChain: Buffer;
}

/** The root key pair: given, read from the data directory, or generated (and saved there). */
export function loadRootKey(options: WebRootKeyOptions): KeyPair {
  if (options.rootPrivateKey !== undefined) return keyPairFromPrivate(options.rootPrivateKey);
  if (options.dataDir === undefined) return Curve.generateKeyPair();
  const file = join(options.dataDir, ROOT_KEY_FILE);
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) {
    const saved = JSON.parse(text) as { privateKey?: unknown };
    if (typeof saved.privateKey !== 'string') throw new Error(`${file}: no privateKey`);
    return keyPairFromPrivate(saved.privateKey);
  }
  const pair = Curve.generateKeyPair();
  mkdirSync(options.dataDir, { recursive: true });
  const body = {
    privateKey: Buffer.from(pair.private).toString('base64'),
    publicKey: Buffer.from(pair.public).toString('base64'),
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return pair;
}

/** The public half of a Curve25519 private key (base64, 32 bytes). */
export function keyPairFromPrivate(privateKeyBase64: string): KeyPair {
  const priv = Buffer.from(privateKeyBase64, 'base64');
  if (priv.length !== 32) throw new RangeError('the root private key must be 32 bytes, base64');
  const der = createPublicKey(
    createPrivateKey({
      key: Buffer.concat([X25519_PKCS8_PREFIX, priv]),
      format: 'der',
      type: 'pkcs8',
    }),
  ).export({ format: 'der', type: 'spki' });
  return { private: priv, public: Buffer.from(der.subarray(der.length - 32)) };
}

/**
 * A fresh intermediate and Noise static key for this process, certified under `root` as
 * WhatsApp does: intermediate (issuer serial 0 = the root) signed with XEdDSA by the root, leaf
 * (the Noise static key) signed by the intermediate.
 */
export function issueServerIdentity(
  root: KeyPair,
  nowS = Math.floor(Date.now() / 1000),
): WebServerIdentity {
  const intermediate = Curve.generateKeyPair();
  const noiseStatic = Curve.generateKeyPair();
  const Details = proto.CertChain.NoiseCertificate.Details;
  const intermediateDetails = Details.encode({
    serial: INTERMEDIATE_SERIAL,
    issuerSerial: ROOT_SERIAL,
    key: intermediate.public,
    notBefore: nowS - 3600,
    notAfter: nowS + YEAR_S,
  }).finish();
  const leafDetails = Details.encode({
    serial: LEAF_SERIAL,
    issuerSerial: INTERMEDIATE_SERIAL,
    key: noiseStatic.public,
    notBefore: nowS - 3600,
    notAfter: nowS + YEAR_S,
  }).finish();
  const certChain = proto.CertChain.encode({
    intermediate: {
      details: intermediateDetails,
      signature: Curve.sign(root.private, intermediateDetails),
    },
    leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) },
  }).finish();
  return { root, noiseStatic, certChain: Buffer.from(certChain) };
}
