import {
  Curve,
  encodeWAMessage,
  generateSignalPubKey,
  generateRegistrationId,
  proto,
  signedKeyPair,
  unpadRandomMax16,
  type SignalCreds,
  type KeyPair,
  type SignalRepositoryWithLIDStore,
} from '@whiskeysockets/baileys';
import { MemorySignalStore, memorySignalRepository } from './memory-signal.store.js';

/** A device's public Signal keys, as the `encrypt` iq hands them out. Keys are 32 raw bytes. */
export interface PreKeyBundle {
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  preKey?: { keyId: number; publicKey: Uint8Array };
}

export interface SignalCiphertext {
  type: 'pkmsg' | 'msg';
  ciphertext: Uint8Array;
}

/**
 * A simulated phone (device 0 of a number): its own Signal identity, signed prekey and one-time
 * prekeys, and the sessions it holds with companion devices, all kept by Baileys' own Signal
 * repository over an in-memory store.
 */
export class SimPhone {
  private readonly creds: SignalCreds;
  private readonly repo: SignalRepositoryWithLIDStore;
  private readonly store = new MemorySignalStore();
  private nextPreKeyId = 1;
  /** Identity each session was built against: a relinked companion gets a fresh session. */
  private readonly sessionIdentity = new Map<string, string>();

  /**
   * `identity` and `registrationId` are the phone's account identity (the transport signs the
   * ADV device identity with it); without them the phone gets fresh ones.
   */
  constructor(
    readonly phoneNumber: string,
    readonly lid: string,
    identity?: { keyPair: KeyPair; registrationId: number },
  ) {
    // Only what Signal needs (not `initAuthCreds`, which also makes a companion's Noise and
    // pairing keys): signing the prekey is the costly part of a new phone.
    const keyPair = identity?.keyPair ?? Curve.generateKeyPair();
    this.creds = {
      signedIdentityKey: keyPair,
      registrationId: identity?.registrationId ?? generateRegistrationId(),
      signedPreKey: signedKeyPair(keyPair, 1),
    };
    this.repo = memorySignalRepository(this.store, this.creds);
  }

  /** The identity key pair: the phone's Signal identity and its ADV account-signature key. */
  get identityKeyPair(): KeyPair {
    return this.creds.signedIdentityKey;
  }

  /** A bundle with a fresh one-time prekey, which the phone keeps until a pkmsg consumes it. */
  preKeyBundle(): PreKeyBundle {
    const keyId = this.nextPreKeyId++;
    const pair = Curve.generateKeyPair();
    this.store.set({ 'pre-key': { [String(keyId)]: pair } });
    const signed = this.creds.signedPreKey;
    return {
      registrationId: this.creds.registrationId,
      identityKey: this.creds.signedIdentityKey.public,
      signedPreKey: {
        keyId: signed.keyId,
        publicKey: signed.keyPair.public,
        signature: signed.signature,
      },
      preKey: { keyId, publicKey: pair.public },
    };
  }

  /** Decrypts what a companion device (`fromJid`) sent this phone; unwraps a device-sent copy. */
  async decrypt(fromJid: string, enc: SignalCiphertext): Promise<proto.IMessage> {
    const plain = await this.repo.decryptMessage({
      jid: fromJid,
      type: enc.type,
      ciphertext: enc.ciphertext,
    });
    return proto.Message.decode(unpadRandomMax16(plain));
  }

  /**
   * Encrypts a message for a companion device. With no open session (or a session built against
   * another identity: the number was relinked) a new one is built from `bundle()`, so the first
   * messages are `pkmsg` until the companion answers.
   */
  async encrypt(
    toJid: string,
    identityKey: Uint8Array,
    message: proto.IMessage,
    bundle: () => PreKeyBundle | undefined,
  ): Promise<SignalCiphertext> {
    const identity = Buffer.from(identityKey).toString('base64');
    const known = this.sessionIdentity.get(toJid);
    const open = known === identity && (await this.repo.validateSession(toJid)).exists;
    if (!open) {
      const keys = bundle();
      if (!keys) throw new Error(`no prekeys for ${toJid}`);
      await this.repo.deleteSession([toJid]);
      await this.repo.injectE2ESession({ jid: toJid, session: toSession(keys) });
      this.sessionIdentity.set(toJid, identity);
    }
    const out = await this.repo.encryptMessage({ jid: toJid, data: encodeWAMessage(message) });
    return { type: out.type, ciphertext: out.ciphertext };
  }

  /** Records which identity a session (made by an incoming pkmsg) belongs to. */
  noteSessionIdentity(jid: string, identityKey: Uint8Array): void {
    this.sessionIdentity.set(jid, Buffer.from(identityKey).toString('base64'));
  }
}

function toSession(bundle: PreKeyBundle): {
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  preKey?: { keyId: number; publicKey: Uint8Array };
} {
  const { signedPreKey, preKey } = bundle;
  return {
    registrationId: bundle.registrationId,
    identityKey: generateSignalPubKey(bundle.identityKey),
    signedPreKey: { ...signedPreKey, publicKey: generateSignalPubKey(signedPreKey.publicKey) },
    ...(preKey ? { preKey: { ...preKey, publicKey: generateSignalPubKey(preKey.publicKey) } } : {}),
  };
}
