import {
  Curve,
  encodeWAMessage,
  generateSignalPubKey,
  initAuthCreds,
  proto,
  unpadRandomMax16,
  type AuthenticationCreds,
  type SignalRepositoryWithLIDStore,
} from '@whiskeysockets/baileys';
import type { WebCompanionKeys } from '../messaging.port.js';
import { MemorySignalStore, memorySignalRepository } from './memory-signal.store.js';
import type { PreKeyBundle, SignalCiphertext } from './sim-phone.model.js';

/**
 * The companion side for tests that run without a WhatsApp Web connection: Baileys' own Signal
 * repository with in-memory keys, as the real client holds them.
 */
export class BaileysCompanionFixture {
  readonly creds: AuthenticationCreds = initAuthCreds();
  readonly repo: SignalRepositoryWithLIDStore;
  /** The keys as the server would hold them after the companion uploaded them. */
  readonly uploaded: WebCompanionKeys;
  private readonly store = new MemorySignalStore();

  constructor(preKeys = 5) {
    this.repo = memorySignalRepository(this.store, this.creds);
    const { signedPreKey } = this.creds;
    this.uploaded = {
      registrationId: this.creds.registrationId,
      identityKey: Buffer.from(this.creds.signedIdentityKey.public),
      signedPreKey: {
        keyId: signedPreKey.keyId,
        publicKey: Buffer.from(signedPreKey.keyPair.public),
        signature: Buffer.from(signedPreKey.signature),
      },
      preKeys: new Map(),
    };
    for (let id = 1; id <= preKeys; id++) {
      const pair = Curve.generateKeyPair();
      this.store.set({ 'pre-key': { [String(id)]: pair } });
      this.uploaded.preKeys.set(id, Buffer.from(pair.public));
    }
  }

  /** Builds a session from a bundle the way the client does after the `encrypt` iq. */
  async startSession(jid: string, bundle: PreKeyBundle): Promise<void> {
    const { signedPreKey, preKey } = bundle;
    await this.repo.injectE2ESession({
      jid,
      session: {
        registrationId: bundle.registrationId,
        identityKey: generateSignalPubKey(bundle.identityKey),
        signedPreKey: { ...signedPreKey, publicKey: generateSignalPubKey(signedPreKey.publicKey) },
        ...(preKey
          ? { preKey: { ...preKey, publicKey: generateSignalPubKey(preKey.publicKey) } }
          : {}),
      },
    });
  }

  encrypt(jid: string, message: proto.IMessage): Promise<SignalCiphertext> {
    return this.repo.encryptMessage({ jid, data: encodeWAMessage(message) });
  }

  async decrypt(jid: string, enc: SignalCiphertext): Promise<proto.IMessage> {
    const plain = await this.repo.decryptMessage({ jid, ...enc });
    return proto.Message.decode(unpadRandomMax16(plain));
  }
}
