import {
  aesDecryptGCM,
  aesEncryptGCM,
  Curve,
  hkdf,
  NOISE_MODE,
  NOISE_WA_HEADER,
  proto,
  sha256,
  type KeyPair,
} from '@whiskeysockets/baileys';

const EMPTY = Buffer.alloc(0);

function iv(counter: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt32BE(counter, 8);
  return out;
}

/** The transport phase: AES-256-GCM, one counter per direction, empty AAD. */
export class NoiseTransport {
  private readCounter = 0;
  private writeCounter = 0;

  constructor(
    private readonly encKey: Buffer,
    private readonly decKey: Buffer,
  ) {}

  encrypt(plaintext: Uint8Array): Buffer {
    return aesEncryptGCM(plaintext, this.encKey, iv(this.writeCounter++), EMPTY);
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    return aesDecryptGCM(ciphertext, this.decKey, iv(this.readCounter++), EMPTY);
  }
}

export interface ClientFinishResult {
  /** The client's long-term Noise key (`creds.noiseKey.public`), proven by the handshake. */
  clientStatic: Buffer;
  payload: proto.ClientPayload;
  transport: NoiseTransport;
}

/**
 * The responder side of Noise_XX_25519_AESGCM_SHA256 with WhatsApp's prologue
 * (`NOISE_WA_HEADER`), built on Baileys' exported primitives.
 */
export class NoiseResponder {
  private hash: Buffer;
  private salt: Buffer;
  private key: Buffer;
  private counter = 0;
  private readonly ephemeral: KeyPair = Curve.generateKeyPair();
  private clientEphemeral: Buffer | null = null;

  constructor(
    private readonly staticKey: KeyPair,
    private readonly certChain: Buffer,
  ) {
    const mode = Buffer.from(NOISE_MODE);
    this.hash = mode.length === 32 ? mode : sha256(mode);
    this.salt = this.hash;
    this.key = this.hash;
    this.authenticate(NOISE_WA_HEADER);
  }

  /** ClientHello in, ServerHello bytes (a `HandshakeMessage`) out. */
  serverHello(clientHello: Uint8Array): Buffer {
    const { clientHello: hello } = proto.HandshakeMessage.decode(clientHello);
    const ephemeral = hello?.ephemeral;
    if (!ephemeral || ephemeral.length !== 32) throw new Error('bad client hello');
    this.clientEphemeral = Buffer.from(ephemeral);
    this.authenticate(this.clientEphemeral);
    this.authenticate(this.ephemeral.public);
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, this.clientEphemeral));
    const staticEnc = this.encrypt(this.staticKey.public);
    this.mixIntoKey(Curve.sharedKey(this.staticKey.private, this.clientEphemeral));
    const payload = this.encrypt(this.certChain);
    return Buffer.from(
      proto.HandshakeMessage.encode({
        serverHello: { ephemeral: this.ephemeral.public, static: staticEnc, payload },
      }).finish(),
    );
  }

  /** ClientFinish in: the client's static key and its ClientPayload; the transport keys. */
  clientFinish(message: Uint8Array): ClientFinishResult {
    const { clientFinish } = proto.HandshakeMessage.decode(message);
    if (!clientFinish?.static || !clientFinish.payload || !this.clientEphemeral) {
      throw new Error('bad client finish');
    }
    const clientStatic = this.decrypt(clientFinish.static);
    if (clientStatic.length !== 32) throw new Error('bad client static key');
    this.mixIntoKey(Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payload = proto.ClientPayload.decode(this.decrypt(clientFinish.payload));
    const keys = hkdf(EMPTY, 64, { salt: this.salt, info: '' });
    const clientWrite = Buffer.from(keys.subarray(0, 32));
    const clientRead = Buffer.from(keys.subarray(32, 64));
    return { clientStatic, payload, transport: new NoiseTransport(clientRead, clientWrite) };
  }

  private authenticate(data: Uint8Array): void {
    this.hash = sha256(Buffer.concat([this.hash, data]));
  }

  private mixIntoKey(data: Uint8Array): void {
    const out = hkdf(Buffer.from(data), 64, { salt: this.salt, info: '' });
    this.salt = Buffer.from(out.subarray(0, 32));
    this.key = Buffer.from(out.subarray(32, 64));
    this.counter = 0;
  }

  private encrypt(plaintext: Uint8Array): Buffer {
    const result = aesEncryptGCM(plaintext, this.key, iv(this.counter++), this.hash);
    this.authenticate(result);
    return result;
  }

  private decrypt(ciphertext: Uint8Array): Buffer {
    const result = aesDecryptGCM(ciphertext, this.key, iv(this.counter++), this.hash);
    this.authenticate(ciphertext);
    return result;
  }
}
