import { describe, expect, it } from '@jest/globals';
import { parseGatewayEvent, type AnyGatewayEvent } from './events.js';
import { InvalidPayloadError } from './wire-validation.js';

const valid = (): AnyGatewayEvent => ({
  id: '01JABCDEFGHJKMNPQRSTVWXYZ0',
  type: 'session.status',
  organizationId: 'org_demo',
  sessionId: '01JABCDEFGHJKMNPQRSTVWXYZ1',
  occurredAt: 1_719_662_400_000,
  data: { status: 'working', gatewayId: 'gw-a', reason: null },
  fence: { gatewayId: 'gw-a', epoch: 3, seq: 7 },
  state: {
    status: 'working',
    gatewayId: 'gw-a',
    reason: null,
    phoneNumber: '6281234567890',
    waJid: '6281234567890@s.whatsapp.net',
    waLid: null,
    qr: null,
    qrExpiresAt: null,
    lastConnectedAt: 1_719_662_399_000,
  },
});

/** `valid()` with one field replaced, by path (`fence.epoch`). */
function withField(path: string, value: unknown): unknown {
  const event = structuredClone(valid()) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let target = event;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[keys[keys.length - 1]!] = value;
  return event;
}

describe('parseGatewayEvent', () => {
  it('returns a valid event unchanged, without fields the contract does not know', () => {
    const event = valid();
    expect(parseGatewayEvent(event)).toEqual(event);
    const extra = { ...valid(), extra: 'x', fence: { ...valid().fence, more: 1 } };
    expect(parseGatewayEvent(extra)).toEqual(event);
  });

  it('checks the data of each session event type', () => {
    const qr = { ...valid(), type: 'auth.qr', data: { qr: 'SIM-QR:abc', expiresAt: 1 } };
    expect(parseGatewayEvent(qr).data).toEqual({ qr: 'SIM-QR:abc', expiresAt: 1 });
    expect(() => parseGatewayEvent({ ...qr, data: { qr: '', expiresAt: 1 } })).toThrow(/data\.qr/);
    const paired = {
      ...valid(),
      type: 'session.paired',
      data: { phoneNumber: '6281', waJid: 'x@s.whatsapp.net', waLid: null },
    };
    expect(() => parseGatewayEvent(paired)).toThrow(/data\.phoneNumber/);
    const loggedOut = { ...valid(), type: 'session.logged_out', data: {} };
    expect(() => parseGatewayEvent(loggedOut)).toThrow(/data\.reason/);
  });

  it.each([
    ['fence.epoch', 1.5],
    ['fence.epoch', 0],
    ['fence.epoch', -1],
    ['fence.epoch', '3'],
    ['fence.epoch', 2 ** 60],
    ['fence.seq', 0.5],
    ['fence.seq', null],
    ['fence.gatewayId', 'gw a'],
    ['fence.gatewayId', 'gw.a'],
    ['fence', []],
    ['id', 'ev-1'],
    ['id', '01jabcdefghjkmnpqrstvwxyz0'],
    ['sessionId', 'session-1'],
    ['sessionId', 42],
    ['organizationId', ''],
    ['organizationId', 'x'.repeat(257)],
    ['organizationId', 'org\u0000'],
    ['type', 'session.hacked'],
    ['occurredAt', 1e300],
    ['occurredAt', Number.NaN],
    ['data', null],
    ['data.status', 'online'],
    ['state', 'working'],
    ['state.status', 'hacked'],
    ['state.gatewayId', ''],
    ['state.reason', 'bad\u0000byte'],
    ['state.reason', 'x'.repeat(4097)],
    ['state.phoneNumber', '+62 812'],
    ['state.waJid', 17],
    ['state.qr', ''],
    ['state.qrExpiresAt', 1.5],
    ['state.lastConnectedAt', -1],
    ['state.lastConnectedAt', 9e15],
    ['state.lastConnectedAt', undefined],
  ])('refuses a bad %s (case %#), naming the field', (path, value) => {
    const run = () => parseGatewayEvent(withField(path, value));
    expect(run).toThrow(InvalidPayloadError);
    expect(run).toThrow(path);
  });

  it('refuses what is not an event object', () => {
    for (const payload of [null, [], 'event', 1]) {
      expect(() => parseGatewayEvent(payload)).toThrow(InvalidPayloadError);
    }
  });
});
