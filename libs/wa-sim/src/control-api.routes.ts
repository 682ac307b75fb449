import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CHANNEL_JID, ControlInputReader, MAX_TEXT, PHONE_NUMBER } from './control-input.reader.js';
import { SimError } from './sim.errors.js';
import type { WebMessagingService } from './web/messaging/web-messaging.service.js';
import type { WebSimNetwork } from './web/web-sim.network.js';
import type { SimDeviceView } from './web/web-sim.views.js';

const PHONE = { pattern: PHONE_NUMBER, max: 15, expected: 'digits with country code, no + (7-15)' };
const CHANNEL = {
  pattern: CHANNEL_JID,
  expected: 'a channel JID like 120363012345678901@newsletter',
};
/** What Baileys shows as the QR (`buildPairingQRData`): ref, noise key, identity key, secret. */
const QR = {
  pattern: /^https:\/\/wa\.me\/settings\/linked_devices#[A-Za-z0-9@+/=,_-]{1,600}$/,
  max: 700,
  expected: 'a WhatsApp Web QR (https://wa.me/settings/linked_devices#...)',
};
const PAIRING_CODE = {
  pattern: /^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$/,
  max: 9,
  expected: 'like ABCD-EFGH',
};
const TEXT = { max: MAX_TEXT };
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
 * `messaging` is null only when the sim runs a custom `WebMessagingHandler`: the routes that
 * play phones then answer 404.
 */
export function registerControlApi(
  app: FastifyInstance,
  web: WebSimNetwork,
  messaging: WebMessagingService | null = null,
  media: { hostname: string; certificate: string } | null = null,
): void {
  /** A linked device, with what the messaging half knows: waiting stanzas and follows. */
  const deviceView = (phoneNumber: string): SimDeviceView => ({
    ...web.deviceView(phoneNumber),
    ...(messaging
      ? {
          queued: messaging.unacknowledged(phoneNumber),
          channels: messaging.channels.channelsOf(phoneNumber),
        }
      : {}),
  });
  const phones = (): WebMessagingService => {
    if (!messaging) throw new SimError('not_found', 'this sim runs no simulated phones');
    return messaging;
  };
  /** The messaging half, for a number that must have a linked device (404 otherwise). */
  const linkedPhones = (phoneNumber: string): WebMessagingService => {
    const service = phones();
    if (!web.hasDevice(phoneNumber))
      throw new SimError('not_found', 'no linked device for this phone number', { phoneNumber });
    return service;
  };

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
      ...web.stats(),
      memory: { rssBytes: rss, heapUsedBytes: heapUsed, externalBytes: external },
    };
  });

  app.get('/sim/v1/root-key', () => ({ publicKey: web.rootPublicKey.toString('base64') }));

  /** The media host `media_conn` names, and the certificate a sandbox client trusts for it. */
  app.get('/sim/v1/media-host', () => {
    if (!media) throw new SimError('not_found', 'this sim runs no media host');
    return media;
  });

  app.get('/sim/v1/connections', () => ({
    items: web.liveConnections(),
    pairing: web.pairingConnections(),
    evictions: web.evictionRecords(),
  }));

  app.post('/sim/v1/qr::scan', (req) => {
    const input = new ControlInputReader(req.body, ['qr', 'phoneNumber']);
    const qr = input.string('qr', QR);
    const phoneNumber = input.string('phoneNumber', PHONE);
    input.done();
    return web.scanQr(qr, phoneNumber);
  });

  app.post('/sim/v1/pairing-codes::enter', (req) => {
    const input = new ControlInputReader(req.body, ['code', 'phoneNumber']);
    const code = input.string('code', PAIRING_CODE).toUpperCase().replace('-', '');
    const phoneNumber = input.string('phoneNumber', PHONE);
    input.done();
    return web.enterPairingCode(code, phoneNumber);
  });

  app.post('/sim/v1/messages', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    // `content` (a JSON message: media metadata, a place, a contact, a reaction, a reply)
    // instead of `text`.
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
    if (
      content !== undefined &&
      (typeof content !== 'object' || content === null || Array.isArray(content))
    )
      throw new SimError('validation_error', 'invalid input: content', {
        fields: { content: 'must be a JSON object' },
      });
    const service = linkedPhones(to);
    const sent =
      content === undefined
        ? await service.sendFromPhone(from, to, text, addressing)
        : await service.sendContentFromPhone(
            from,
            to,
            content as Record<string, unknown>,
            addressing,
          );
    return reply.status(201).send(sent);
  });

  app.get('/sim/v1/messages/:id', (req) => {
    const id = params(req)['id'] ?? '';
    const record = messaging?.messages.get(id);
    if (!record) throw new SimError('not_found', 'message not found', { id });
    return record;
  });

  app.post('/sim/v1/channels/:jid/posts', (req, reply) => {
    const jid = channelParam(req, 'jid');
    const input = new ControlInputReader(req.body, ['text']);
    const text = input.string('text', TEXT);
    input.done();
    return reply.status(201).send(phones().postToChannel(jid, text));
  });

  app.get('/sim/v1/devices', () => ({
    items: web.deviceViews().map((d) => deviceView(d.phoneNumber)),
  }));

  app.get('/sim/v1/devices/:phoneNumber', (req) => deviceView(phoneParam(req)));

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
    switch (match[2]) {
      case 'disconnect':
        return web.disconnectDevice(phoneNumber, code);
      case 'logout':
        return web.logoutDevice(phoneNumber);
      case 'ban':
        return web.ban(phoneNumber);
      default:
        return web.unban(phoneNumber);
    }
  });

  app.get('/sim/v1/devices/:phoneNumber/messages', (req) => {
    const phoneNumber = phoneParam(req);
    return { items: messaging?.messages.inbox(phoneNumber) ?? [] };
  });

  app.post('/sim/v1/devices/:phoneNumber/messages::read', (req) => {
    const phoneNumber = phoneParam(req);
    const input = new ControlInputReader(req.body, ['ids'], { optional: true });
    const ids = input.optionalStringArray('ids', 1_000);
    input.done();
    return phones().readOnPhone(phoneNumber, ids);
  });

  app.get('/sim/v1/devices/:phoneNumber/presences', (req) => {
    const phoneNumber = phoneParam(req);
    return { items: messaging?.messages.presences(phoneNumber) ?? [] };
  });

  app.post('/sim/v1/devices/:phoneNumber/channels', (req) => {
    const phoneNumber = phoneParam(req);
    const input = new ControlInputReader(req.body, ['jid']);
    const jid = input.string('jid', CHANNEL);
    input.done();
    linkedPhones(phoneNumber).channels.follow(phoneNumber, jid);
    return deviceView(phoneNumber);
  });

  app.delete('/sim/v1/devices/:phoneNumber/channels/:jid', (req) => {
    const phoneNumber = phoneParam(req);
    const jid = channelParam(req, 'jid');
    if (!linkedPhones(phoneNumber).channels.unfollow(phoneNumber, jid)) {
      throw new SimError('not_found', 'the device does not follow this channel', { jid });
    }
    return deviceView(phoneNumber);
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
