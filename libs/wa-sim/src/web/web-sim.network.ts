import { randomBytes, randomInt } from 'node:crypto';
import {
  aesDecryptCTR,
  aesDecryptGCM,
  aesEncryptCTR,
  Curve,
  derivePairingCodeKey,
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  hkdf,
  hmacSign,
  proto,
  type BinaryNode,
} from '@whiskeysockets/baileys';
import { SimError } from '../sim.errors.js';
import { lidForPhone } from '../sim-ids.util.js';
import type {
  WebCompanionKeys,
  WebLinkedDevice,
  WebMessagingHandler,
  WebSimContext,
  WebSimPhone,
} from './messaging.port.js';
import { NoiseResponder } from './noise.responder.js';
import type { WebServerIdentity } from './root-key.store.js';
import type {
  PairingEntry,
  SimDeviceView,
  SimEviction,
  SimLinkResult,
  SimLiveConnection,
  WaSimLogger,
} from './web-sim.views.js';
import {
  answerPreKeyFetch,
  answerPrivacy,
  answerProps,
  answerUsync,
  iqError,
  iqResult,
  readKeyUpload,
  S_WHATSAPP_NET,
  type WebIqDirectory,
} from './web-iq.answers.js';
import { WebConnection, type WebConnectionEvents, type WebSocketLike } from './web.connection.js';
import { xeddsaVerify } from '@wagw/xeddsa';

export interface WebSimNetworkOptions {
  identity: WebServerIdentity;
  /** Lifetime of the first QR ref (Baileys shows it 60 s) and of the later ones (20 s). */
  qrFirstTtlMs: number;
  qrTtlMs: number;
  /** Refs sent in `pair-device`; when all expired unscanned the client ends with 408. */
  qrRefs: number;
  /** How long a phone waits for the companion's answers while linking. */
  pairTimeoutMs: number;
  messaging: WebMessagingHandler;
  logger: WaSimLogger;
  now?: () => number;
}

/** WhatsApp's prefixes for the ADV signatures (`WA_ADV_*_SIG_PREFIX`). */
const ADV_ACCOUNT_SIG_PREFIX = Buffer.from([6, 0]);
const ADV_DEVICE_SIG_PREFIX = Buffer.from([6, 1]);
const QR_PREFIX = 'https://wa.me/settings/linked_devices#';
/** After the last ref expired, the client gave up (408); the server cuts what is left. */
const QR_EXHAUSTED_GRACE_MS = 3_000;
const MAX_EVICTIONS = 1_000;

interface WebDevice {
  linked: WebLinkedDevice;
  /** The companion's Noise static key: the credential a login proves. */
  noiseKey: Buffer;
  conn: WebConnection | null;
}

/**
 * The WhatsApp Web side of the simulated network: Noise handshakes, QR and code linking,
 * login, one live connection per linked number, the disconnects WhatsApp sends, and the iqs a
 * client awaits. Messages go to the `WebMessagingHandler`.
 */
export class WebSimNetwork {
  readonly context: WebSimContext;
  private readonly now: () => number;
  private readonly conns = new Set<WebConnection>();
  private readonly devices = new Map<string, WebDevice>();
  private readonly phones = new Map<string, WebSimPhone>();
  private readonly lidToPhone = new Map<string, string>();
  private readonly lastDeviceId = new Map<string, number>();
  private readonly refs = new Map<string, WebConnection>();
  private readonly banned = new Set<string>();
  private readonly evictions: SimEviction[] = [];
  private readonly directory: WebIqDirectory;
  private readonly events: WebConnectionEvents;
  private readonly codeFinishers = new Map<WebConnection, (node: BinaryNode) => void>();
  private nextConnId = 1;

  constructor(private readonly options: WebSimNetworkOptions) {
    this.now = options.now ?? Date.now;
    this.directory = {
      device: (phone) => this.devices.get(phone)?.linked,
      phoneByLid: (lid) => this.phoneByLid(lid),
      lidOf: (phone) => this.phone(phone).lid,
      takePreKey: (phone) => this.takePreKey(phone),
    };
    this.context = {
      push: (phone, node) => this.push(phone, node),
      device: (phone) => this.devices.get(phone)?.linked,
      deviceByLid: (lid) => {
        const phone = this.phoneByLid(lid);
        return phone === undefined ? undefined : this.devices.get(phone)?.linked;
      },
      phoneByLid: (lid) => this.phoneByLid(lid),
      isOnline: (phone) => this.liveConn(phone) !== null,
      phone: (phone) => this.phone(phone),
      takePreKey: (phone) => this.takePreKey(phone),
      now: () => this.now(),
      logger: options.logger,
    };
    this.events = {
      clientFinished: (conn, payload) => this.clientFinished(conn, payload),
      stanza: (conn, node) => this.stanza(conn, node),
      closed: (conn) => this.detach(conn),
      error: (conn, err) => {
        options.logger.warn({ err, clientId: conn.clientId }, 'wa-sim web: connection failed');
        conn.end(null);
      },
    };
    options.messaging.attach(this.context);
  }

  /** The root public key clients must trust (`WA_CERT_DETAILS.PUBLIC_KEY`). */
  get rootPublicKey(): Buffer {
    return Buffer.from(this.options.identity.root.public);
  }

  // ---- transport side ----------------------------------------------------------------------

  open(socket: WebSocketLike, clientId: string): WebConnection {
    const { noiseStatic, certChain } = this.options.identity;
    const conn = new WebConnection(
      this.nextConnId++,
      clientId,
      socket,
      new NoiseResponder(noiseStatic, certChain),
      this.events,
      this.now(),
    );
    this.conns.add(conn);
    return conn;
  }

  /** Cuts connections still in the Noise handshake `timeoutMs` after opening. */
  sweepSilent(timeoutMs: number): void {
    const deadline = this.now() - timeoutMs;
    for (const conn of this.conns) {
      if ((conn.state === 'hello' || conn.state === 'finish') && conn.openedAt <= deadline) {
        conn.end(null);
      }
    }
  }

  shutdown(): void {
    for (const conn of [...this.conns]) conn.end(null);
    this.options.messaging.close();
  }

  // ---- control side ------------------------------------------------------------------------

  /** The phone scans a QR the companion shows; resolves once the device is linked. */
  async scanQr(qr: string, phoneNumber: string): Promise<SimLinkResult> {
    const parts = qr.slice(QR_PREFIX.length).split(',');
    const [ref, noiseB64, identityB64, advB64] = parts;
    if (parts.length < 4 || !ref || !noiseB64 || !identityB64 || !advB64) {
      throw new SimError('validation_error', 'not a WhatsApp Web linking QR', {
        fields: { qr: 'malformed' },
      });
    }
    const conn = this.refs.get(ref);
    if (!conn || conn.state !== 'registering') {
      throw new SimError('not_found', 'unknown QR code', { field: 'qr' });
    }
    const index = conn.refs.indexOf(ref);
    if (this.now() >= this.refExpiresAt(conn, index)) {
      throw new SimError('failed_precondition', 'QR code expired', { reason: 'expired' });
    }
    // The QR carries the companion's Noise key: it must be the key that connection proved.
    if (!conn.clientStatic?.equals(Buffer.from(noiseB64, 'base64'))) {
      throw new SimError('failed_precondition', 'the QR does not match the connection showing it', {
        reason: 'noise_key_mismatch',
      });
    }
    const identity = Buffer.from(identityB64, 'base64');
    if (!conn.registration?.identityKey.equals(identity)) {
      throw new SimError('failed_precondition', 'the QR identity key is not the registered one', {
        reason: 'identity_mismatch',
      });
    }
    const advSecret = Buffer.from(advB64, 'base64');
    if (advSecret.length !== 32) {
      throw new SimError('validation_error', 'the QR secret must be 32 bytes', {
        fields: { qr: 'bad secret' },
      });
    }
    return this.link(conn, phoneNumber, advSecret);
  }

  /** Whether a companion asked for a pairing code for this number (it may be entered now). */
  awaitsPairingCode(phoneNumber: string): boolean {
    return this.codeConn(phoneNumber) !== null;
  }

  /**
   * The phone enters the code the companion shows: `primary_hello` → `companion_finish` →
   * `pair-success` → 515. A wrong code shows as a bundle the phone cannot decrypt (409).
   */
  async enterPairingCode(code: string, phoneNumber: string): Promise<SimLinkResult> {
    const conn = this.codeConn(phoneNumber);
    if (!conn?.codeHello || !conn.registration) {
      throw new SimError(
        'not_found',
        'no companion is waiting for a pairing code for this number',
        {
          phoneNumber,
        },
      );
    }
    this.assertNotBanned(phoneNumber);
    const wrapped = conn.codeHello.wrappedEphemeral;
    if (wrapped.length !== 80) {
      throw new SimError('failed_precondition', 'the companion sent a malformed pairing key', {
        reason: 'bad_hello',
      });
    }
    conn.linking = true;
    try {
      const companionEphemeral = aesDecryptCTR(
        wrapped.subarray(48),
        await derivePairingCodeKey(code, wrapped.subarray(0, 32)),
        wrapped.subarray(32, 48),
      );
      const phone = this.phone(phoneNumber);
      const primaryEphemeral = Curve.generateKeyPair();
      const salt = randomBytes(32);
      const iv = randomBytes(16);
      const wrappedPrimary = Buffer.concat([
        salt,
        iv,
        aesEncryptCTR(primaryEphemeral.public, await derivePairingCodeKey(code, salt), iv),
      ]);
      const finished = new Promise<BinaryNode>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.codeFinishers.delete(conn);
          reject(
            new SimError('failed_precondition', 'the companion did not finish linking in time', {
              reason: 'timeout',
            }),
          );
        }, this.options.pairTimeoutMs);
        this.codeFinishers.set(conn, (node) => {
          clearTimeout(timer);
          resolve(node);
        });
      });
      conn.send({
        tag: 'notification',
        attrs: {
          from: S_WHATSAPP_NET,
          id: conn.newId(),
          t: this.unixNow(),
          type: 'link_code_companion_reg',
        },
        content: [
          {
            tag: 'link_code_companion_reg',
            attrs: { stage: 'primary_hello' },
            content: [
              { tag: 'link_code_pairing_ref', attrs: {}, content: conn.codeHello.ref },
              {
                tag: 'primary_identity_pub',
                attrs: {},
                content: Buffer.from(phone.identity.public),
              },
              {
                tag: 'link_code_pairing_wrapped_primary_ephemeral_pub',
                attrs: {},
                content: wrappedPrimary,
              },
            ],
          },
        ],
      });
      const finish = getBinaryNodeChild(await finished, 'link_code_companion_reg');
      const bundle = getBinaryNodeChildBuffer(finish, 'link_code_pairing_wrapped_key_bundle');
      const companionIdentity = getBinaryNodeChildBuffer(finish, 'companion_identity_public');
      if (!bundle || bundle.length < 44 + 16 || !companionIdentity) {
        throw new SimError('failed_precondition', 'the companion sent a malformed key bundle', {
          reason: 'bad_finish',
        });
      }
      const shared = Curve.sharedKey(primaryEphemeral.private, companionEphemeral);
      const bundleKey = hkdf(shared, 32, {
        salt: bundle.subarray(0, 32),
        info: 'link_code_pairing_key_bundle_encryption_key',
      });
      let plain: Buffer;
      try {
        plain = aesDecryptGCM(
          bundle.subarray(44),
          bundleKey,
          bundle.subarray(32, 44),
          Buffer.alloc(0),
        );
      } catch {
        conn.end(failureNode(401));
        throw new SimError(
          'failed_precondition',
          'wrong pairing code: the key bundle does not decrypt',
          {
            reason: 'wrong_code',
          },
        );
      }
      const bundledCompanion = plain.subarray(0, 32);
      const bundledPrimary = plain.subarray(32, 64);
      const random = plain.subarray(64, 96);
      if (
        !bundledCompanion.equals(Buffer.from(companionIdentity)) ||
        !bundledCompanion.equals(conn.registration.identityKey) ||
        !bundledPrimary.equals(Buffer.from(phone.identity.public))
      ) {
        throw new SimError('failed_precondition', 'the key bundle names other identities', {
          reason: 'identity_mismatch',
        });
      }
      const advSecret = Buffer.from(
        hkdf(
          Buffer.concat([
            shared,
            Curve.sharedKey(phone.identity.private, bundledCompanion),
            random,
          ]),
          32,
          { info: 'adv_secret' },
        ),
      );
      conn.linking = false;
      return await this.link(conn, phoneNumber, advSecret);
    } finally {
      conn.linking = false;
    }
  }

  hasDevice(phoneNumber: string): boolean {
    return this.devices.has(phoneNumber);
  }

  /** Ends the live connection as WhatsApp would for `code` (see `disconnectNode`). */
  disconnectDevice(
    phoneNumber: string,
    code: number,
  ): { phoneNumber: string; clientId: string; code: number } {
    const device = this.requireDevice(phoneNumber);
    const conn = device.conn;
    if (!conn) {
      throw new SimError('failed_precondition', 'the device has no live connection', {
        reason: 'not_connected',
      });
    }
    if (code === 401) {
      this.unlink(device, 'removed by the network');
    } else if (code === 408) {
      device.conn = null;
      this.notifyDisconnected(device.linked, 408);
      this.detach(conn);
      conn.silence();
    } else {
      conn.end(disconnectNode(code));
    }
    return { phoneNumber, clientId: conn.clientId, code };
  }

  logoutDevice(phoneNumber: string): {
    phoneNumber: string;
    loggedOut: true;
    wasConnected: boolean;
  } {
    const device = this.requireDevice(phoneNumber);
    const wasConnected = device.conn !== null;
    this.unlink(device, 'logged out from the phone');
    return { phoneNumber, loggedOut: true, wasConnected };
  }

  /**
   * Bans a number, linked or not: its live connection gets `failure 403`, every login too, and it
   * can neither link a companion nor be sent a pairing code, until unbanned.
   */
  ban(phoneNumber: string): { phoneNumber: string; banned: true; wasConnected: boolean } {
    this.banned.add(phoneNumber);
    const conn = this.devices.get(phoneNumber)?.conn ?? null;
    if (conn) conn.end(failureNode(403));
    this.options.logger.info({ phoneNumber }, 'number banned');
    return { phoneNumber, banned: true, wasConnected: conn !== null };
  }

  unban(phoneNumber: string): { phoneNumber: string; banned: false } {
    this.banned.delete(phoneNumber);
    return { phoneNumber, banned: false };
  }

  liveConnections(): SimLiveConnection[] {
    const items: SimLiveConnection[] = [];
    for (const { linked, conn } of this.devices.values()) {
      if (conn)
        items.push({ phoneNumber: linked.phoneNumber, clientId: conn.clientId, since: conn.since });
    }
    return items;
  }

  pairingConnections(): PairingEntry[] {
    const out: PairingEntry[] = [];
    for (const conn of this.conns) {
      if (conn.state !== 'registering') continue;
      const code = conn.codeHello !== null;
      out.push({
        clientId: conn.clientId,
        since: conn.since,
        mode: code ? 'code' : 'qr',
        expiresAt: code ? null : this.currentRefExpiry(conn),
        phoneNumber: conn.codeHello?.phoneNumber ?? null,
      });
    }
    return out;
  }

  evictionRecords(): SimEviction[] {
    return [...this.evictions];
  }

  deviceViews(): SimDeviceView[] {
    return [...this.devices.keys()].map((phone) => this.deviceView(phone));
  }

  deviceView(phoneNumber: string): SimDeviceView {
    const { linked, conn } = this.requireDevice(phoneNumber);
    return {
      phoneNumber,
      waJid: linked.jid,
      waLid: linked.lid,
      linkedAt: linked.linkedAt,
      connected: conn !== null,
      clientId: conn?.clientId ?? null,
      queued: 0,
      banned: this.banned.has(phoneNumber),
      channels: [],
    };
  }

  stats(): { connections: number; linked: number; devices: number; pairing: number } {
    let linked = 0;
    for (const d of this.devices.values()) if (d.conn) linked++;
    let pairing = 0;
    for (const c of this.conns) if (c.state === 'registering') pairing++;
    return { connections: this.conns.size, linked, devices: this.devices.size, pairing };
  }

  // ---- protocol ----------------------------------------------------------------------------

  private async clientFinished(conn: WebConnection, payload: proto.ClientPayload): Promise<void> {
    const pairing = payload.devicePairingData;
    if (payload.username === null || payload.username === undefined) {
      if (!pairing) return conn.end(failureNode(401));
      return this.startRegistration(conn, pairing);
    }
    const phoneNumber = String(payload.username);
    const deviceId = payload.device ?? 0;
    if (this.banned.has(phoneNumber)) return conn.end(failureNode(403));
    const device = this.devices.get(phoneNumber);
    if (
      !device ||
      device.linked.deviceId !== deviceId ||
      !conn.clientStatic?.equals(device.noiseKey)
    ) {
      return conn.end(failureNode(401));
    }
    if (device.conn && device.conn !== conn) this.evict(device, device.conn, conn);
    device.conn = conn;
    conn.device = device.linked;
    conn.state = 'login';
    conn.since = this.now();
    conn.send({
      tag: 'success',
      attrs: {
        t: this.unixNow(),
        lid: device.linked.lid,
        props: '1',
        abprops: '1',
        location: 'sim',
        creation: String(Math.floor(device.linked.linkedAt / 1000)),
      },
    });
    let offline = 0;
    try {
      offline = await this.options.messaging.onLogin(device.linked);
    } catch (err) {
      this.options.logger.error({ err, phoneNumber }, 'wa-sim web: messaging onLogin failed');
    }
    if (conn.state !== 'login') return;
    conn.send({
      tag: 'ib',
      attrs: {},
      content: [{ tag: 'offline', attrs: { count: String(offline) } }],
    });
    conn.state = 'open';
  }

  private startRegistration(
    conn: WebConnection,
    data: proto.ClientPayload.IDevicePairingRegistrationData,
  ): void {
    const { eRegid, eIdent, eSkeyId, eSkeyVal, eSkeySig } = data;
    if (
      eRegid?.length !== 4 ||
      eIdent?.length !== 32 ||
      !eSkeyId ||
      eSkeyVal?.length !== 32 ||
      eSkeySig?.length !== 64
    ) {
      return conn.end(failureNode(400));
    }
    conn.registration = {
      registrationId: Buffer.from(eRegid).readUInt32BE(0),
      identityKey: Buffer.from(eIdent),
      signedPreKey: {
        keyId: Buffer.from(eSkeyId).readUIntBE(0, eSkeyId.length),
        publicKey: Buffer.from(eSkeyVal),
        signature: Buffer.from(eSkeySig),
      },
      platform: 'web',
    };
    conn.state = 'registering';
    conn.since = this.now();
    conn.refs = [];
    for (let i = 0; i < this.options.qrRefs; i++) {
      const ref = `2@${randomBytes(33).toString('base64')}`;
      conn.refs.push(ref);
      this.refs.set(ref, conn);
    }
    conn.refsShownAt = this.now();
    conn.send({
      tag: 'iq',
      attrs: { from: S_WHATSAPP_NET, type: 'set', id: conn.newId(), xmlns: 'md' },
      content: [
        {
          tag: 'pair-device',
          attrs: {},
          content: conn.refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })),
        },
      ],
    });
    const lastExpiry = this.refExpiresAt(conn, conn.refs.length - 1);
    conn.timer = setTimeout(
      () => {
        if (conn.state === 'registering' && !conn.linking && conn.codeHello === null)
          conn.end(null);
      },
      lastExpiry - this.now() + QR_EXHAUSTED_GRACE_MS,
    );
    conn.timer.unref();
  }

  private async stanza(conn: WebConnection, node: BinaryNode): Promise<void> {
    if (conn.state === 'registering') return this.registeringStanza(conn, node);
    const device = conn.device;
    if (!device || (conn.state !== 'login' && conn.state !== 'open')) return;
    const messaging = this.options.messaging;
    try {
      switch (node.tag) {
        case 'iq':
          return await this.iq(conn, device, node);
        case 'message':
          return await messaging.onMessage(device, node);
        case 'receipt':
          return await messaging.onReceipt(device, node);
        case 'ack':
          return await messaging.onAck(device, node);
        default:
          return await messaging.onOtherStanza(device, node);
      }
    } catch (err) {
      this.options.logger.error(
        { err, tag: node.tag, phoneNumber: device.phoneNumber },
        'wa-sim web: stanza handler failed',
      );
    }
  }

  private registeringStanza(conn: WebConnection, node: BinaryNode): void {
    const type = node.attrs['type'];
    if (node.tag !== 'iq' || (type !== 'set' && type !== 'get')) return;
    const reg = getBinaryNodeChild(node, 'link_code_companion_reg');
    // Anything else (keep-alive pings above all: a pairing client that hears nothing for its
    // keep-alive interval + 5 s gives up with 408) gets an empty result.
    if (!reg || type !== 'set') return conn.send(iqResult(node));
    const stage = reg.attrs['stage'];
    if (stage === 'companion_hello') {
      const wrapped = getBinaryNodeChildBuffer(
        reg,
        'link_code_pairing_wrapped_companion_ephemeral_pub',
      );
      const authKey = getBinaryNodeChildBuffer(reg, 'companion_server_auth_key_pub');
      const phoneNumber = /^(\d+)@s\.whatsapp\.net$/.exec(reg.attrs['jid'] ?? '')?.[1];
      if (
        !wrapped ||
        !phoneNumber ||
        !authKey ||
        !conn.clientStatic?.equals(Buffer.from(authKey))
      ) {
        return conn.send(iqError(node, 400, 'bad-request'));
      }
      if (this.banned.has(phoneNumber)) return conn.send(iqError(node, 403, 'forbidden'));
      const ref = Buffer.from(`2@${randomBytes(24).toString('base64')}`);
      conn.codeHello = { phoneNumber, wrappedEphemeral: Buffer.from(wrapped), ref };
      conn.since = this.now();
      // A code lives as long as the QR refs would; rotation stops (the client shows the code).
      conn.send(
        iqResult(node, [
          {
            tag: 'link_code_companion_reg',
            attrs: {},
            content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: ref }],
          },
        ]),
      );
      return;
    }
    if (stage === 'companion_finish') {
      conn.send(iqResult(node));
      const finisher = this.codeFinishers.get(conn);
      this.codeFinishers.delete(conn);
      finisher?.(node);
      return;
    }
    conn.send(iqError(node, 400, 'bad-request'));
  }

  private async iq(conn: WebConnection, device: WebLinkedDevice, node: BinaryNode): Promise<void> {
    if (node.attrs['type'] === 'result' || node.attrs['type'] === 'error') return;
    const answer = await this.options.messaging.onIq(device, node);
    if (answer) return conn.send(answer);
    conn.send(this.defaultIq(device, node));
  }

  private defaultIq(device: WebLinkedDevice, node: BinaryNode): BinaryNode {
    const xmlns = node.attrs['xmlns'] ?? '';
    const type = node.attrs['type'];
    switch (xmlns) {
      case 'encrypt':
        if (type === 'get') {
          if (getBinaryNodeChild(node, 'count')) {
            return iqResult(node, [
              { tag: 'count', attrs: { value: String(device.keys.preKeys.size) } },
            ]);
          }
          if (getBinaryNodeChild(node, 'digest'))
            return iqResult(node, [{ tag: 'digest', attrs: {} }]);
          if (getBinaryNodeChild(node, 'key')) return answerPreKeyFetch(node, this.directory);
          return iqResult(node);
        }
        readKeyUpload(node, device.keys);
        return iqResult(node);
      case 'usync':
        return answerUsync(node, this.directory);
      case 'abt':
        return answerProps(node);
      case 'blocklist':
        return iqResult(node, [{ tag: 'list', attrs: {} }]);
      case 'privacy':
        return type === 'get' && getBinaryNodeChild(node, 'privacy')
          ? answerPrivacy(node)
          : iqResult(node);
      case 'md':
        if (getBinaryNodeChild(node, 'remove-companion-device')) {
          // The client logs itself out; it ends locally (401) and needs no stanza.
          const linked = this.devices.get(device.phoneNumber);
          if (linked?.linked === device)
            setImmediate(() => this.unlink(linked, 'logged out by the companion', false));
        }
        return iqResult(node);
      default:
        return iqResult(node);
    }
  }

  /** The phone side of linking: ADV identity, `pair-success`, verified `pair-device-sign`, 515. */
  private async link(
    conn: WebConnection,
    phoneNumber: string,
    advSecret: Buffer,
  ): Promise<SimLinkResult> {
    this.assertNotBanned(phoneNumber);
    const registration = conn.registration;
    const noiseKey = conn.clientStatic;
    if (conn.linking || !registration || !noiseKey || conn.state !== 'registering') {
      throw new SimError('failed_precondition', 'the companion is already linking', {
        reason: 'busy',
      });
    }
    conn.linking = true;
    conn.clearTimer();
    const phone = this.phone(phoneNumber);
    const deviceId = (this.lastDeviceId.get(phoneNumber) ?? 0) + 1;
    const lidUser = phone.lid.slice(0, -'@lid'.length);
    const jid = `${phoneNumber}:${deviceId}@s.whatsapp.net`;
    const lid = `${lidUser}:${deviceId}@lid`;
    const details = Buffer.from(
      proto.ADVDeviceIdentity.encode({
        rawId: randomInt(1, 2 ** 31),
        timestamp: Math.floor(this.now() / 1000),
        keyIndex: 1,
      }).finish(),
    );
    const accountSignatureKey = Buffer.from(phone.identity.public);
    const accountSignature = Buffer.from(
      Curve.sign(
        phone.identity.private,
        Buffer.concat([ADV_ACCOUNT_SIG_PREFIX, details, registration.identityKey]),
      ),
    );
    const signed = Buffer.from(
      proto.ADVSignedDeviceIdentity.encode({
        details,
        accountSignatureKey,
        accountSignature,
      }).finish(),
    );
    const container = proto.ADVSignedDeviceIdentityHMAC.encode({
      details: signed,
      hmac: hmacSign(signed, advSecret),
    }).finish();
    let reply: BinaryNode;
    try {
      reply = await conn.query(
        {
          tag: 'iq',
          attrs: {
            from: S_WHATSAPP_NET,
            type: 'set',
            id: conn.newId(),
            xmlns: 'md',
            t: this.unixNow(),
          },
          content: [
            {
              tag: 'pair-success',
              attrs: {},
              content: [
                { tag: 'device-identity', attrs: { 'key-index': '1' }, content: container },
                { tag: 'platform', attrs: { name: 'android' } },
                { tag: 'device', attrs: { jid, lid } },
              ],
            },
          ],
        },
        this.options.pairTimeoutMs,
      );
    } catch {
      conn.linking = false;
      conn.end(null);
      throw new SimError('failed_precondition', 'the companion did not confirm the link', {
        reason: 'timeout',
      });
    }
    const signedBack = getBinaryNodeChildBuffer(
      getBinaryNodeChild(reply, 'pair-device-sign'),
      'device-identity',
    );
    const identity = signedBack ? proto.ADVSignedDeviceIdentity.decode(signedBack) : null;
    const deviceSignature = identity?.deviceSignature
      ? Buffer.from(identity.deviceSignature)
      : null;
    const valid =
      reply.attrs['type'] === 'result' &&
      identity !== null &&
      deviceSignature !== null &&
      Buffer.from(identity.details ?? []).equals(details) &&
      Buffer.from(identity.accountSignature ?? []).equals(accountSignature) &&
      xeddsaVerify(
        registration.identityKey,
        Buffer.concat([
          ADV_DEVICE_SIG_PREFIX,
          details,
          registration.identityKey,
          accountSignatureKey,
        ]),
        deviceSignature,
      );
    if (!valid) {
      conn.linking = false;
      conn.end(failureNode(401));
      throw new SimError('failed_precondition', 'the companion did not sign the device identity', {
        reason: 'bad_device_signature',
      });
    }
    if (this.banned.has(phoneNumber)) {
      conn.end(failureNode(403));
      throw new SimError('failed_precondition', 'the phone number is banned', { reason: 'banned' });
    }
    // One device per number: linking again removes the previous companion.
    const previous = this.devices.get(phoneNumber);
    if (previous) this.unlink(previous, 'device replaced by a new link');
    const keys: WebCompanionKeys = {
      registrationId: registration.registrationId,
      identityKey: registration.identityKey,
      signedPreKey: registration.signedPreKey,
      preKeys: new Map(),
    };
    const linked: WebLinkedDevice = {
      phoneNumber,
      deviceId,
      jid,
      lid,
      accountLid: phone.lid,
      keys,
      linkedAt: this.now(),
    };
    this.lastDeviceId.set(phoneNumber, deviceId);
    this.devices.set(phoneNumber, { linked, noiseKey, conn: null });
    try {
      this.options.messaging.onLinked(linked);
    } catch (err) {
      this.options.logger.error({ err, phoneNumber }, 'wa-sim web: messaging onLinked failed');
    }
    conn.end({ tag: 'stream:error', attrs: { code: '515' } });
    this.options.logger.info(
      { phoneNumber, clientId: conn.clientId, deviceId },
      'web device linked',
    );
    // The account's own JIDs, as the session shows them (the device ones carry `:<device>`).
    return {
      phoneNumber,
      waJid: `${phoneNumber}@s.whatsapp.net`,
      waLid: phone.lid,
      clientId: conn.clientId,
    };
  }

  /** Forgets the device; its live connection gets 401 device_removed (unless it left itself). */
  private unlink(device: WebDevice, reason: string, tellConnection = true): void {
    const phoneNumber = device.linked.phoneNumber;
    if (this.devices.get(phoneNumber) !== device) return;
    this.devices.delete(phoneNumber);
    const conn = device.conn;
    device.conn = null;
    if (conn) {
      if (tellConnection) conn.end(disconnectNode(401));
      this.notifyDisconnected(device.linked, 401);
    }
    try {
      this.options.messaging.onUnlinked(device.linked);
    } catch (err) {
      this.options.logger.error({ err, phoneNumber }, 'wa-sim web: messaging onUnlinked failed');
    }
    this.options.logger.info({ phoneNumber, reason }, 'web device unlinked');
  }

  private evict(device: WebDevice, old: WebConnection, by: WebConnection): void {
    const eviction: SimEviction = {
      phoneNumber: device.linked.phoneNumber,
      evictedClientId: old.clientId,
      byClientId: by.clientId,
      at: this.now(),
    };
    this.evictions.push(eviction);
    if (this.evictions.length > MAX_EVICTIONS) this.evictions.shift();
    device.conn = null;
    old.end(disconnectNode(440));
    this.notifyDisconnected(device.linked, 440);
    this.options.logger.warn(eviction, 'connection replaced: two clients held the same device');
  }

  /** A connection ended (socket closed, or the network ended it). */
  private detach(conn: WebConnection): void {
    if (!this.conns.delete(conn)) return;
    conn.clearTimer();
    for (const ref of conn.refs) this.refs.delete(ref);
    this.codeFinishers.delete(conn);
    const linked = conn.device;
    if (!linked) return;
    const device = this.devices.get(linked.phoneNumber);
    if (device?.conn === conn) {
      device.conn = null;
      this.notifyDisconnected(linked, 428);
    }
  }

  private notifyDisconnected(device: WebLinkedDevice, code: number): void {
    try {
      this.options.messaging.onDisconnected(device, code);
    } catch (err) {
      this.options.logger.error({ err }, 'wa-sim web: messaging onDisconnected failed');
    }
  }

  private push(phoneNumber: string, node: BinaryNode): boolean {
    const conn = this.liveConn(phoneNumber);
    if (!conn) return false;
    conn.send(node);
    return true;
  }

  private liveConn(phoneNumber: string): WebConnection | null {
    const conn = this.devices.get(phoneNumber)?.conn ?? null;
    return conn && (conn.state === 'login' || conn.state === 'open') ? conn : null;
  }

  private phone(phoneNumber: string): WebSimPhone {
    let phone = this.phones.get(phoneNumber);
    if (!phone) {
      phone = {
        phoneNumber,
        identity: Curve.generateKeyPair(),
        registrationId: randomInt(1, 16_380),
        lid: lidForPhone(phoneNumber),
      };
      this.phones.set(phoneNumber, phone);
      this.lidToPhone.set(phone.lid, phoneNumber);
    }
    return phone;
  }

  private phoneByLid(lid: string): string | undefined {
    const account = lid.replace(/:\d+@lid$/, '@lid');
    return this.lidToPhone.get(account);
  }

  private takePreKey(phoneNumber: string): { keyId: number; publicKey: Buffer } | undefined {
    const keys = this.devices.get(phoneNumber)?.linked.keys;
    if (!keys) return undefined;
    for (const [keyId, publicKey] of keys.preKeys) {
      keys.preKeys.delete(keyId);
      return { keyId, publicKey };
    }
    return undefined;
  }

  private codeConn(phoneNumber: string): WebConnection | null {
    let found: WebConnection | null = null;
    for (const conn of this.conns) {
      if (
        conn.state === 'registering' &&
        !conn.linking &&
        conn.codeHello?.phoneNumber === phoneNumber
      ) {
        if (!found || conn.since >= found.since) found = conn;
      }
    }
    return found;
  }

  private refExpiresAt(conn: WebConnection, index: number): number {
    if (index < 0) return 0;
    return conn.refsShownAt + this.options.qrFirstTtlMs + index * this.options.qrTtlMs;
  }

  private currentRefExpiry(conn: WebConnection): number | null {
    const now = this.now();
    for (let i = 0; i < conn.refs.length; i++) {
      const at = this.refExpiresAt(conn, i);
      if (at > now) return at;
    }
    return null;
  }

  private requireDevice(phoneNumber: string): WebDevice {
    const device = this.devices.get(phoneNumber);
    if (!device)
      throw new SimError('not_found', 'no linked device for this phone number', { phoneNumber });
    return device;
  }

  private assertNotBanned(phoneNumber: string): void {
    if (this.banned.has(phoneNumber)) {
      throw new SimError('failed_precondition', 'the phone number is banned', { reason: 'banned' });
    }
  }

  private unixNow(): string {
    return String(Math.floor(this.now() / 1000));
  }
}

function failureNode(reason: number): BinaryNode {
  return { tag: 'failure', attrs: { reason: String(reason), location: 'sim' } };
}

/**
 * The stanza WhatsApp ends a session with, per code the client should see:
 * 515 restart, 401 device removed, 440 replaced, 428 stream end, 411 multidevice mismatch,
 * 403/405 failure, anything else `stream:error code=N` (408 is silence, handled by the caller).
 */
export function disconnectNode(code: number): BinaryNode {
  switch (code) {
    case 401:
      return {
        tag: 'stream:error',
        attrs: { code: '401' },
        content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }],
      };
    case 440:
      return {
        tag: 'stream:error',
        attrs: {},
        content: [{ tag: 'conflict', attrs: { type: 'replaced' } }],
      };
    case 428:
      return { tag: 'xmlstreamend', attrs: {} };
    case 411:
      return { tag: 'ib', attrs: {}, content: [{ tag: 'downgrade_webclient', attrs: {} }] };
    case 403:
    case 405:
      return failureNode(code);
    default:
      return { tag: 'stream:error', attrs: { code: String(code) } };
  }
}
