import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CHANNEL_JID, ControlInputReader, MAX_TEXT, PHONE_NUMBER } from './control-input.reader.js';
import { WA_SIM_QR_PREFIX } from './protocol.js';
import { SimError } from './sim.errors.js';
import type { WaSimNetwork } from './wa-sim.network.js';
import type { WebSimNetwork } from './web/web-sim.network.js';
import type { WebMessagingService } from './web/messaging/web-messaging.service.js';
import type { SimDeviceView } from './device.registry.js';

const PHONE = { pattern: PHONE_NUMBER, max: 15, expected: 'digits with country code, no + (7-15)' };
const CHANNEL = {
  pattern: CHANNEL_JID,
  expected: 'a channel JID like 120363012345678901@newsletter',
};
const QR = {
  pattern:
    /^(SIM-QR:[A-Za-z0-9_-]{1,64}|https:\/\/wa\.me\/settings\/linked_devices#[A-Za-z0-9@+/=,_-]{1,600})$/,
  max: 700,
  expected: `a ${WA_SIM_QR_PREFIX}<ref> payload, or a WhatsApp Web QR (https://wa.me/settings/linked_devices#...)`,
};
const PAIRING_CODE = {
  pattern: /^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$/,
  max: 9,
  expected: 'like ABCD-EFGH',
};
const TEXT = { max: MAX_TEXT };
/** What Baileys puts before the QR data (`buildPairingQRData`). */
const WEB_QR_PREFIX = 'https://wa.me/settings/linked_devices#';
const ADDRESSING = { pattern: /^(pn|lid)$/, expected: '"pn" or "lid"' };
/** Device actions are `POST /sim/v1/devices/<digits>:<action>`. */
const DEVICE_ACTION = /^([^:]+):(disconnect|logout|ban|unban)$/;

type Params = Record<string, string>;

function params(req: FastifyRequest): Params {
  return req.params as Params;
}

/** Reads a path phone number; 400 when malformed. */
function phoneParam(req: FastifyRequest): string {
  const input = new ControlInputReader({}, []);
  const phone = input.check('phoneNumber', params(req)['phoneNumber'] ?? '', PHONE);
  input.done();
  return phone;
}

function channelParam(req: FastifyRequest, name: string): string {
  const input = new ControlInputReader({}, []);
  const jid = input.check('jid', params(req)[name] ?? '', CHANNEL);
  input.done();
  return jid;
}

/**
 * The control API: `/sim/v1/...`, JSON in and out, errors in the gateway's envelope. It plays the
 * phones (scan, type a code, send, read, log out) and the network (disconnect, ban), and reports
 * what the network saw. Route segments with a literal `:` are written `::` for fastify.
 */
export function registerControlApi(
  app: FastifyInstance,
  network: WaSimNetwork,
  web: WebSimNetwork,
  messaging: WebMessagingService | null = null,
  media: { hostname: string; certificate: string } | null = null,
): void {
  /** A WhatsApp Web device as the messaging half sees it: waiting stanzas and follows. */
  const webView = (phoneNumber: string): SimDeviceView => ({
    ...web.deviceView(phoneNumber),
    ...(messaging
      ? {
          queued: messaging.unacknowledged(phoneNumber),
          channels: messaging.channels.channelsOf(phoneNumber),
        }
      : {}),
  });
  const onWebMessaging = (phoneNumber: string): WebMessagingService | null =>
    messaging && web.hasDevice(phoneNumber) ? messaging : null;

  // An empty body with a JSON content type reads as "no body", so curl -X POST ... with the
  // header but no data works for the body-less actions.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        new SimError('validation_error', 'the body is not valid JSON', {
          fields: { body: 'invalid JSON' },
        }),
      );
    }
  });

  app.setErrorHandler((err: FastifyError | SimError, _req: FastifyRequest, reply: FastifyReply) => {
    const simError = toSimError(err);
    void reply.status(simError.status).send(simError.toEnvelope());
  });
  app.setNotFoundHandler((req, reply) => {
    const error = new SimError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
    void reply.status(404).send(error.toEnvelope());
  });

  app.get('/sim/v1/healthz', (req) => {
    // `?gc=true` collects garbage first when the process runs with --expose-gc (benchmarks).
    const gc = (globalThis as { gc?: () => void }).gc;
    if ((req.query as Record<string, string>)['gc'] === 'true' && gc) gc();
    const { rss, heapUsed, external } = process.memoryUsage();
    return {
      status: 'ok',
      ...network.stats(),
      web: web.stats(),
      memory: { rssBytes: rss, heapUsedBytes: heapUsed, externalBytes: external },
    };
  });

  app.get('/sim/v1/root-key', () => ({ publicKey: web.rootPublicKey.toString('base64') }));

  /** The media host `media_conn` names, and the certificate a sandbox client trusts for it. */
  app.get('/sim/v1/media-host', () => {
    if (!media) throw new SimError('not_found', 'this sim runs no media host');
    return media;
  });

  app.get('/sim/v1/connections', () => {
    const sim1 = network.listConnections();
    return {
      items: [...sim1.items, ...web.liveConnections()],
      pairing: [...sim1.pairing, ...web.pairingConnections()],
      evictions: [...sim1.evictions, ...web.evictionRecords()].sort((a, b) => a.at - b.at),
    };
  });

  app.post('/sim/v1/qr::scan', (req) => {
    const input = new ControlInputReader(req.body, ['qr', 'phoneNumber']);
    const qr = input.string('qr', QR);
    const phoneNumber = input.string('phoneNumber', PHONE);
    input.done();
    if (qr.startsWith(WEB_QR_PREFIX)) return web.scanQr(qr, phoneNumber);
    return network.scanQr(qr, phoneNumber);
  });

  app.post('/sim/v1/pairing-codes::enter', (req) => {
    const input = new ControlInputReader(req.body, ['code', 'phoneNumber']);
    const raw = input.string('code', PAIRING_CODE).toUpperCase().replace('-', '');
    const phoneNumber = input.string('phoneNumber', PHONE);
    input.done();
    if (web.awaitsPairingCode(phoneNumber)) return web.enterPairingCode(raw, phoneNumber);
    return network.enterPairingCode(`${raw.slice(0, 4)}-${raw.slice(4)}`, phoneNumber);
  });

  app.post('/sim/v1/messages', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    // `content` (a JSON message: media metadata, a place, a contact, a reaction, a reply)
    // instead of `text`: only on the WhatsApp Web side, where phones speak Signal.
    const content = body?.['content'];
    const input = new ControlInputReader(
      content === undefined ? body : { ...body, content: undefined },
      ['from', 'to', 'text', 'content', 'addressing'],
    );
    const from = input.string('from', PHONE);
    const to = input.string('to', PHONE);
    const text = content === undefined ? input.string('text', TEXT) : '';
    const addressing = input.optionalString('addressing', ADDRESSING, 'pn') as 'pn' | 'lid';
    input.done();
    const webMessaging = onWebMessaging(to);
    if (content !== undefined) {
      if (typeof content !== 'object' || content === null || Array.isArray(content))
        throw new SimError('validation_error', 'invalid input: content', {
          fields: { content: 'must be a JSON object' },
        });
      if (!webMessaging)
        throw new SimError('not_found', 'no linked WhatsApp Web device for this phone number', {
          phoneNumber: to,
        });
      const sent = await webMessaging.sendContentFromPhone(
        from,
        to,
        content as Record<string, unknown>,
        addressing,
      );
      return reply.status(201).send(sent);
    }
    const sent = webMessaging
      ? await webMessaging.sendFromPhone(from, to, text, addressing)
      : network.injectMessage(from, to, text);
    return reply.status(201).send(sent);
  });

  app.get('/sim/v1/messages/:id', (req) => {
    const id = params(req)['id'] ?? '';
    return messaging?.messages.get(id) ?? network.getMessage(id);
  });

  app.post('/sim/v1/channels/:jid/posts', (req, reply) => {
    const jid = channelParam(req, 'jid');
    const input = new ControlInputReader(req.body, ['text']);
    const text = input.string('text', TEXT);
    input.done();
    const post = network.postToChannel(jid, text);
    const webPost = messaging?.postToChannel(jid, text, post);
    return reply.status(201).send({
      ...post,
      delivered: post.delivered + (webPost?.delivered ?? 0),
      queued: post.queued + (webPost?.queued ?? 0),
    });
  });

  app.get('/sim/v1/devices', () => ({
    items: [...network.listDevices(), ...web.deviceViews().map((d) => webView(d.phoneNumber))],
  }));

  app.get('/sim/v1/devices/:phoneNumber', (req) => {
    const phoneNumber = phoneParam(req);
    return web.hasDevice(phoneNumber) ? webView(phoneNumber) : network.getDevice(phoneNumber);
  });

  app.post('/sim/v1/devices/:target', (req) => {
    const match = DEVICE_ACTION.exec(params(req)['target'] ?? '');
    if (!match?.[1] || !match[2]) {
      throw new SimError('not_found', `no route POST ${req.url.split('?')[0]}`, {
        actions: ['disconnect', 'logout', 'ban', 'unban'],
      });
    }
    const input = new ControlInputReader(req.body, match[2] === 'disconnect' ? ['code'] : [], {
      optional: true,
    });
    const phoneNumber = input.check('phoneNumber', match[1], PHONE);
    const code = input.optionalInt('code', 400, 599, 428);
    input.done();
    const onWeb = web.hasDevice(phoneNumber);
    switch (match[2]) {
      case 'disconnect':
        return onWeb
          ? web.disconnectDevice(phoneNumber, code)
          : network.disconnectDevice(phoneNumber, code);
      case 'logout':
        return onWeb ? web.logoutDevice(phoneNumber) : network.logoutDevice(phoneNumber);
      case 'ban': {
        // A number is banned on both protocols: it can neither log in nor link.
        const webConnected = web.ban(phoneNumber);
        const result = network.banDevice(phoneNumber);
        return { ...result, wasConnected: result.wasConnected || webConnected };
      }
      default:
        web.unban(phoneNumber);
        return network.unbanDevice(phoneNumber);
    }
  });

  app.get('/sim/v1/devices/:phoneNumber/messages', (req) => {
    const phoneNumber = phoneParam(req);
    const items = [
      ...network.receivedMessages(phoneNumber),
      ...(messaging?.messages.inbox(phoneNumber) ?? []),
    ];
    return { items: items.sort((a, b) => a.timestamp - b.timestamp) };
  });

  app.post('/sim/v1/devices/:phoneNumber/messages::read', (req) => {
    const phoneNumber = phoneParam(req);
    const input = new ControlInputReader(req.body, ['ids'], { optional: true });
    const ids = input.optionalStringArray('ids', 1_000);
    input.done();
    const read = network.readOnPhone(phoneNumber, ids).read;
    return { read: read + (messaging?.readOnPhone(phoneNumber, ids).read ?? 0) };
  });

  app.get('/sim/v1/devices/:phoneNumber/presences', (req) => {
    const phoneNumber = phoneParam(req);
    return {
      items: [
        ...network.presences(phoneNumber),
        ...(messaging?.messages.presences(phoneNumber) ?? []),
      ],
    };
  });

  app.post('/sim/v1/devices/:phoneNumber/channels', (req) => {
    const phoneNumber = phoneParam(req);
    const input = new ControlInputReader(req.body, ['jid']);
    const jid = input.string('jid', CHANNEL);
    input.done();
    const webMessaging = onWebMessaging(phoneNumber);
    if (!webMessaging) return network.followChannel(phoneNumber, jid);
    webMessaging.channels.follow(phoneNumber, jid);
    return webView(phoneNumber);
  });

  app.delete('/sim/v1/devices/:phoneNumber/channels/:jid', (req) => {
    const phoneNumber = phoneParam(req);
    const jid = channelParam(req, 'jid');
    const webMessaging = onWebMessaging(phoneNumber);
    if (!webMessaging) return network.unfollowChannel(phoneNumber, jid);
    if (!webMessaging.channels.unfollow(phoneNumber, jid)) {
      throw new SimError('not_found', 'the device does not follow this channel', { jid });
    }
    return webView(phoneNumber);
  });
}

/** One exhaustive mapping from whatever was thrown to the envelope; unknowns become 500. */
function toSimError(err: FastifyError | SimError): SimError {
  if (err instanceof SimError) return err;
  if (err.validation) {
    return new SimError('validation_error', err.message, {
      fields: { [err.validationContext ?? 'body']: err.message },
    });
  }
  if (err.statusCode === 413) {
    return new SimError('payload_too_large', 'the body is too large');
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    // Body parsing problems: bad content type, bad JSON, ...
    return new SimError('validation_error', err.message, { fields: { body: err.message } });
  }
  return new SimError('internal', 'internal error');
}
