import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startWaSim, WaSimControlClient, WaSimControlError, type WaSimServer } from '@wagw/wa-sim';
import { xeddsaVerify } from '@wagw/xeddsa';
import {
  Curve,
  DisconnectReason,
  makeNoiseHandler,
  NOISE_WA_HEADER,
  proto,
  S_WHATSAPP_NET,
  type BinaryNode,
} from '@whiskeysockets/baileys';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import {
  linkByQr,
  trustSim,
  WebClient,
  WebClientAuth,
  type WebClientOptions,
} from '../support/baileys-web-client.js';

/**
 * The real Baileys 7.0.0-rc14 client against the sim's WhatsApp Web side (`/ws/chat`): Noise
 * with a chain under the sim's own root key, QR and code linking, login, every disconnect code,
 * eviction, QR exhaustion. No mocks in between.
 */
describe('wa-sim speaks WhatsApp Web to the real Baileys client', () => {
  const QR_TTL_MS = 1_000;
  let sim: WaSimServer;
  let control: WaSimControlClient;
  let rootKey: string;
  let nextPhone = 6281200000001;
  const open: WebClient[] = [];
  const phone = (): string => String(nextPhone++);
  const options = (extra: Partial<WebClientOptions> = {}): WebClientOptions => ({
    url: sim.webUrl,
    auth: new WebClientAuth(),
    qrTimeoutMs: QR_TTL_MS,
    // The sim answers Baileys' queries after login too.
    fireInitQueries: true,
    ...extra,
  });
  const track = (client: WebClient): WebClient => {
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    sim = await startWaSim({ port: 0, qrFirstTtlMs: QR_TTL_MS, qrTtlMs: QR_TTL_MS, qrMaxRefs: 2 });
    control = new WaSimControlClient(sim.controlUrl);
    rootKey = await trustSim(control);
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.end()));
    await sim.close();
  });

  it('publishes its root key, and the chain it sends verifies under it with a real XEdDSA check', async () => {
    expect(Buffer.from(rootKey, 'base64')).toHaveLength(32);
    const chain = await fetchCertChain(sim.webUrl);
    const root = Buffer.from(rootKey, 'base64');
    const intermediate = proto.CertChain.NoiseCertificate.Details.decode(
      chain.intermediate.details,
    );
    const leaf = proto.CertChain.NoiseCertificate.Details.decode(chain.leaf.details);
    expect(intermediate.issuerSerial).toBe(0);
    expect(leaf.issuerSerial).toBe(intermediate.serial);
    expect(xeddsaVerify(root, chain.intermediate.details, chain.intermediate.signature)).toBe(true);
    expect(
      xeddsaVerify(intermediate.key ?? Buffer.alloc(0), chain.leaf.details, chain.leaf.signature),
    ).toBe(true);
    // The leaf certifies the very key the server proved in the handshake.
    expect(Buffer.from(leaf.key ?? []).equals(chain.serverStatic)).toBe(true);
    // The check is real: another root, or one flipped bit, fails.
    expect(
      xeddsaVerify(
        Curve.generateKeyPair().public,
        chain.intermediate.details,
        chain.intermediate.signature,
      ),
    ).toBe(false);
    const tampered = Buffer.from(chain.leaf.signature);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    expect(xeddsaVerify(intermediate.key ?? Buffer.alloc(0), chain.leaf.details, tampered)).toBe(
      false,
    );
  });

  it('QR pairing → 515 → login → open with creds.me (number, jid, lid)', async () => {
    const number = phone();
    const opts = options({ clientId: 'qr-test' });
    const pairing = new WebClient(opts);
    const qr = await pairing.nextQr();
    expect(qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#2@/);
    // A pairing client pings while it waits (no answer for keep-alive + 5 s → it gives up).
    expect((await ping(pairing)).attrs.type).toBe('result');
    expect((await control.connections()).pairing).toContainEqual({
      clientId: 'qr-test',
      since: expect.any(Number),
      mode: 'qr',
      expiresAt: expect.any(Number),
      phoneNumber: null,
    });
    const linked = await control.scanQr(qr, number);
    expect(linked).toMatchObject({ phoneNumber: number, clientId: 'qr-test' });
    expect(await pairing.closed()).toBe(DisconnectReason.restartRequired);
    // A QR links once.
    await expect(control.scanQr(qr, number)).rejects.toMatchObject({ status: 404 });
    const me = opts.auth.creds.me;
    // The link reports the account's own JIDs; the companion's carry its device number.
    expect(linked.waJid).toBe(`${number}@s.whatsapp.net`);
    expect(me?.id).toMatch(new RegExp(`^${number}:\\d+@s\\.whatsapp\\.net$`));
    expect(me?.lid?.replace(/:\d+@/, '@')).toBe(linked.waLid);

    const client = track(new WebClient(opts));
    await client.opened();
    expect(client.sock.user?.id).toBe(me?.id);
    expect(opts.auth.creds.me?.lid).toMatch(/^\d+:\d+@lid$/);
    const device = await control.device(number);
    expect(device).toMatchObject({ connected: true, clientId: 'qr-test', waJid: me?.id });
    expect(await control.devices()).toContainEqual(device);
    expect((await control.connections()).items).toContainEqual(
      expect.objectContaining({ phoneNumber: number, clientId: 'qr-test' }),
    );
  });

  it('pairing code: companion_hello → code entered on the phone → 515 → open', async () => {
    const number = phone();
    // Baileys keeps rotating QRs while the code is pending: give it time to finish linking.
    const opts = options({ clientId: 'code-test', qrTimeoutMs: 30_000 });
    const pairing = new WebClient(opts);
    await pairing.nextQr(); // the socket is registered and waiting
    const code = await pairing.sock.requestPairingCode(number);
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    await waitFor(async () =>
      (await control.connections()).pairing.some(
        (p) => p.mode === 'code' && p.phoneNumber === number,
      ),
    );
    const linked = await control.enterPairingCode(code, number);
    expect(linked).toMatchObject({ phoneNumber: number, clientId: 'code-test' });
    expect(await pairing.closed()).toBe(DisconnectReason.restartRequired);
    expect(opts.auth.creds.me?.id.replace(/:\d+@/, '@')).toBe(linked.waJid);
    const client = track(new WebClient(opts));
    await client.opened();
    expect(opts.auth.creds.me?.lid?.replace(/:\d+@/, '@')).toBe(linked.waLid);
  });

  it('a wrong pairing code is refused (the key bundle does not decrypt) and links nothing', async () => {
    const number = phone();
    const pairing = new WebClient(options({ qrTimeoutMs: 30_000 }));
    await pairing.nextQr();
    const code = await pairing.sock.requestPairingCode(number);
    const wrong = code.startsWith('A') ? `B${code.slice(1)}` : `A${code.slice(1)}`;
    await waitFor(async () =>
      (await control.connections()).pairing.some((p) => p.phoneNumber === number),
    );
    await expect(control.enterPairingCode(wrong, number)).rejects.toMatchObject({ status: 409 });
    await expect(control.device(number)).rejects.toMatchObject({ status: 404 });
    await pairing.end();
  });

  it("a QR whose noise key is not the connection's is refused", async () => {
    const pairing = new WebClient(options());
    const qr = await pairing.nextQr();
    const parts = qr.split(',');
    parts[1] = Buffer.from(Curve.generateKeyPair().public).toString('base64');
    await expect(control.scanQr(parts.join(','), phone())).rejects.toMatchObject({ status: 409 });
    await pairing.end();
  });

  it('exhausted QR refs end the pairing connection with 408', async () => {
    const pairing = new WebClient(options());
    const first = await pairing.nextQr();
    const second = await pairing.nextQr();
    expect(second).not.toBe(first);
    expect(await pairing.closed()).toBe(DisconnectReason.timedOut);
    // The expired ref cannot be scanned any more.
    await expect(control.scanQr(first, phone())).rejects.toBeInstanceOf(WaSimControlError);
  });

  it('an unknown device gets failure 401 at login', async () => {
    const opts = options();
    opts.auth.creds.me = { id: `${phone()}:3@s.whatsapp.net`, name: '~' };
    const client = new WebClient(opts);
    expect(await client.closed()).toBe(DisconnectReason.loggedOut);
  });

  it('a second login of the device evicts the first with 440 and records it', async () => {
    const number = phone();
    const opts = options({ clientId: 'first' });
    const first = await linkByQr(control, opts, number);
    const second = track(new WebClient({ ...opts, clientId: 'second' }));
    await second.opened();
    expect(await first.closed()).toBe(DisconnectReason.connectionReplaced);
    const { evictions, items } = await control.connections();
    expect(evictions).toContainEqual(
      expect.objectContaining({
        phoneNumber: number,
        evictedClientId: 'first',
        byClientId: 'second',
      }),
    );
    expect(items.filter((i) => i.phoneNumber === number)).toEqual([
      expect.objectContaining({ clientId: 'second' }),
    ]);
  });

  it('relinking a number unlinks the old device: its next login gets 401', async () => {
    const number = phone();
    const oldOpts = options();
    const old = await linkByQr(control, oldOpts, number);
    const fresh = track(await linkByQr(control, options(), number));
    expect(await old.closed()).toBe(DisconnectReason.loggedOut);
    const again = new WebClient(oldOpts);
    expect(await again.closed()).toBe(DisconnectReason.loggedOut);
    expect(fresh.closeCode).toBeNull();
  });

  describe('disconnects on demand arrive as that DisconnectReason', () => {
    const number = '6281299999001';
    let opts: WebClientOptions;

    beforeAll(async () => {
      opts = options({ keepAliveIntervalMs: 1_000 });
      const client = await linkByQr(control, opts, number);
      await client.end();
    });

    const login = async (): Promise<WebClient> => {
      const client = new WebClient(opts);
      await client.opened();
      return client;
    };

    it.each([
      [515, DisconnectReason.restartRequired],
      [503, DisconnectReason.unavailableService],
      [428, DisconnectReason.connectionClosed],
      [405, 405],
      [411, DisconnectReason.multideviceMismatch],
      [500, DisconnectReason.badSession],
    ])(':disconnect code %i → %i', async (code, reason) => {
      const client = await login();
      await expect(control.disconnect(number, code)).resolves.toMatchObject({ code });
      expect(await client.closed()).toBe(reason);
    });

    it(':disconnect without a body uses 428; a device with no live connection gets 409', async () => {
      const client = await login();
      await expect(
        control.request('POST', `/sim/v1/devices/${number}:disconnect`),
      ).resolves.toEqual({ phoneNumber: number, clientId: 'unknown', code: 428 });
      expect(await client.closed()).toBe(DisconnectReason.connectionClosed);
      await waitFor(async () => !(await control.device(number)).connected);
      await expect(control.disconnect(number, 503)).rejects.toMatchObject({
        status: 409,
        envelope: { error: { details: { reason: 'not_connected' } } },
      });
    });

    it(':disconnect code 408: the network goes silent, the client ends with 408 (connectionLost)', async () => {
      const client = await login();
      await control.disconnect(number, 408);
      expect(await client.closed()).toBe(DisconnectReason.connectionLost);
    });

    it(':ban → 403 on the live connection and at every login; :unban lets it back', async () => {
      const client = await login();
      await expect(control.ban(number)).resolves.toMatchObject({
        banned: true,
        wasConnected: true,
      });
      expect(await client.closed()).toBe(DisconnectReason.forbidden);
      expect(await new WebClient(opts).closed()).toBe(DisconnectReason.forbidden);
      expect(await control.device(number)).toMatchObject({ banned: true, connected: false });
      // A banned number can link no companion: the scan is refused, so is a pairing code.
      const pairing = new WebClient(options({ qrTimeoutMs: 30_000 }));
      await expect(control.scanQr(await pairing.nextQr(), number)).rejects.toMatchObject({
        status: 409,
        envelope: { error: { details: { reason: 'banned' } } },
      });
      // Baileys sends companion_hello without awaiting the answer (the sim's 403): a ping after
      // it, answered in order, shows the sim has handled it.
      const code = await pairing.sock.requestPairingCode(number);
      await ping(pairing);
      expect((await control.connections()).pairing).not.toContainEqual(
        expect.objectContaining({ phoneNumber: number }),
      );
      await expect(control.enterPairingCode(code, number)).rejects.toMatchObject({ status: 404 });
      await pairing.end();
      await expect(control.unban(number)).resolves.toEqual({ phoneNumber: number, banned: false });
      const back = await login();
      await back.end();
    });

    it(':logout → 401 (device removed); the credentials are dead', async () => {
      const client = await login();
      await expect(control.logout(number)).resolves.toMatchObject({
        loggedOut: true,
        wasConnected: true,
      });
      expect(await client.closed()).toBe(DisconnectReason.loggedOut);
      expect(await new WebClient(opts).closed()).toBe(DisconnectReason.loggedOut);
      await expect(control.device(number)).rejects.toMatchObject({ status: 404 });
    });
  });
});

/** A keep-alive ping, as Baileys sends it; resolves with the answer. */
function ping(client: WebClient): Promise<BinaryNode> {
  return client.sock.query({
    tag: 'iq',
    attrs: { to: S_WHATSAPP_NET, type: 'get', xmlns: 'w:p', id: client.sock.generateMessageTag() },
    content: [{ tag: 'ping', attrs: {} }],
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A minimal Noise initiator on Baileys' own handler: returns the chain the server sent. */
async function fetchCertChain(url: string): Promise<{
  intermediate: { details: Uint8Array; signature: Uint8Array };
  leaf: { details: Uint8Array; signature: Uint8Array };
  serverStatic: Buffer;
}> {
  const ephemeral = Curve.generateKeyPair();
  const noise = makeNoiseHandler({
    keyPair: ephemeral,
    NOISE_HEADER: NOISE_WA_HEADER,
    logger: pino({ level: 'silent' }),
  });
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const frame = new Promise<Uint8Array>((resolve) => {
    ws.on(
      'message',
      (data: Buffer) => void noise.decodeFrame(data, (f) => resolve(f as Uint8Array)),
    );
  });
  ws.send(
    noise.encodeFrame(
      proto.HandshakeMessage.encode({ clientHello: { ephemeral: ephemeral.public } }).finish(),
    ),
  );
  const { serverHello } = proto.HandshakeMessage.decode(await frame);
  ws.terminate();
  if (!serverHello?.ephemeral || !serverHello.static || !serverHello.payload)
    throw new Error('no server hello');
  noise.authenticate(serverHello.ephemeral);
  noise.mixIntoKey(Curve.sharedKey(ephemeral.private, serverHello.ephemeral));
  const serverStatic = Buffer.from(noise.decrypt(serverHello.static));
  noise.mixIntoKey(Curve.sharedKey(ephemeral.private, serverStatic));
  const chain = proto.CertChain.decode(noise.decrypt(serverHello.payload));
  if (
    !chain.intermediate?.details ||
    !chain.intermediate.signature ||
    !chain.leaf?.details ||
    !chain.leaf.signature
  ) {
    throw new Error('incomplete chain');
  }
  return {
    intermediate: { details: chain.intermediate.details, signature: chain.intermediate.signature },
    leaf: { details: chain.leaf.details, signature: chain.leaf.signature },
    serverStatic,
  };
}
