import { describe, expect, it } from '@jest/globals';
import type {
  WaConnection,
  WaConnectionFactory,
  WaConnectionListener,
  WaConnectionOptions,
} from '@wagw/whatsapp';
import { ConnectSlotsFactory } from './connect-slots.factory.js';

/** A driver whose connections do nothing until the test makes them show a QR, open or close. */
class ScriptedFactory implements WaConnectionFactory {
  readonly driver = 'scripted';
  readonly connected: { sessionId: string; listener: WaConnectionListener }[] = [];
  failConnect = false;

  create(options: WaConnectionOptions): WaConnection {
    const entry = { sessionId: options.sessionId, listener: options.listener };
    const unused = (): Promise<never> => Promise.reject(new Error('not scripted'));
    return {
      connect: () => {
        if (this.failConnect) return Promise.reject(new Error('no network'));
        this.connected.push(entry);
        return Promise.resolve();
      },
      close: () => {
        options.listener.onClose({ code: 499, message: 'closed by client' });
        return Promise.resolve();
      },
      requestPairingCode: unused,
      sendText: unused,
      sendMessage: unused,
      sendPresence: unused,
      markRead: unused,
      logout: unused,
    };
  }

  open(sessionId: string): void {
    this.find(sessionId).listener.onOpen({
      phoneNumber: '6591234567',
      waJid: '6591234567@s.whatsapp.net',
      waLid: null,
    });
  }

  find(sessionId: string): { listener: WaConnectionListener } {
    const entry = this.connected.find((c) => c.sessionId === sessionId);
    if (!entry) throw new Error(`${sessionId} never connected`);
    return entry;
  }
}

const recorder = () => {
  const seen: string[] = [];
  const listener: WaConnectionListener = {
    onQr: () => seen.push('qr'),
    onOpen: () => seen.push('open'),
    onClose: (r) => seen.push(`close ${r.code}`),
    onMessage: () => Promise.resolve(),
    onReceipt: () => Promise.resolve(),
    onChannelMessage: () => Promise.resolve(),
  };
  return { seen, listener };
};

const settle = () => new Promise((r) => setImmediate(r));

describe('ConnectSlotsFactory', () => {
  const connectAll = (slots: ConnectSlotsFactory, ids: string[], linked = true) =>
    ids.map((id) => {
      const { seen, listener } = recorder();
      const connection = slots.create({
        sessionId: id,
        clientId: 'gw',
        auth: null!,
        listener,
        linked,
      });
      void connection.connect();
      return { id, seen, connection };
    });

  it('lets only `concurrency` connections log in at once; an open, a QR or a close frees a slot', async () => {
    const inner = new ScriptedFactory();
    const slots = new ConnectSlotsFactory(inner, { logins: 2, pairings: 1 });
    const [a, b, c, d] = connectAll(slots, ['a', 'b', 'c', 'd']);
    await settle();
    expect(inner.connected.map((x) => x.sessionId)).toEqual(['a', 'b']);
    expect([slots.connecting, slots.waiting]).toEqual([2, 2]);

    inner.open('a');
    await settle();
    expect(inner.connected.map((x) => x.sessionId)).toEqual(['a', 'b', 'c']);
    inner.find('b').listener.onQr({ qr: 'ref', expiresAt: 0 });
    await settle();
    expect(inner.connected.map((x) => x.sessionId)).toEqual(['a', 'b', 'c', 'd']);
    inner.find('c').listener.onClose({ code: 428, message: 'lost' });
    inner.open('d');
    await settle();
    expect([slots.connecting, slots.waiting]).toEqual([0, 0]);
    // The listener sees every event as it came.
    expect([a!.seen, b!.seen, c!.seen, d!.seen]).toEqual([
      ['open'],
      ['qr'],
      ['close 428'],
      ['open'],
    ]);
  });

  it('never connects a connection closed while it waited, and a failed connect frees its slot', async () => {
    const inner = new ScriptedFactory();
    const slots = new ConnectSlotsFactory(inner, { logins: 1, pairings: 1 });
    const [, waiting] = connectAll(slots, ['first', 'second']);
    await settle();
    await waiting!.connection.close();
    expect(waiting!.seen).toEqual(['close 499']);
    inner.open('first');
    await settle();
    expect(inner.connected.map((x) => x.sessionId)).toEqual(['first']);
    expect([slots.connecting, slots.waiting]).toEqual([0, 0]);

    inner.failConnect = true;
    const { listener } = recorder();
    const failing = slots.create({
      sessionId: 'x',
      clientId: 'gw',
      auth: null!,
      listener,
      linked: true,
    });
    await expect(failing.connect()).rejects.toThrow('no network');
    await settle();
    expect(slots.connecting).toBe(0);
  });

  it('frees the slot of a connection closed while it logs in', async () => {
    const inner = new ScriptedFactory();
    const slots = new ConnectSlotsFactory(inner, { logins: 1, pairings: 1 });
    const [first] = connectAll(slots, ['first', 'second']);
    await settle();
    await first!.connection.close();
    await settle();
    expect(inner.connected.map((x) => x.sessionId)).toEqual(['first', 'second']);
  });

  it("gives pairings (and a scan's first login) slots of their own, apart from logins", async () => {
    const inner = new ScriptedFactory();
    const slots = new ConnectSlotsFactory(inner, { logins: 2, pairings: 1 });
    connectAll(slots, ['p1', 'p2'], false);
    connectAll(slots, ['l1', 'l2', 'l3'], true);
    await settle();
    expect(inner.connected.map((x) => x.sessionId)).toEqual(['p1', 'l1', 'l2']);
    inner.find('p1').listener.onQr({ qr: 'ref', expiresAt: 0 });
    await settle();
    expect(inner.connected.map((x) => x.sessionId)).toEqual(['p1', 'l1', 'l2', 'p2']);
    expect(slots.waiting).toBe(1);
  });
});
