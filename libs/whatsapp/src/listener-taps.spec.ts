import { describe, expect, it } from '@jest/globals';
import { tapListener } from './listener-taps.js';
import type { WaConnectionListener, WaInboundMessage } from './whatsapp-connection.port.js';

describe('tapListener', () => {
  const recording = (calls: string[]): WaConnectionListener => ({
    onQr: () => calls.push('qr'),
    onOpen: () => calls.push('open'),
    onClose: () => calls.push('close'),
    onMessage: () => {
      calls.push('message');
      return Promise.reject(new Error('not published'));
    },
    onReceipt: () => {
      calls.push('receipt');
      return Promise.resolve();
    },
    onChannelMessage: () => {
      calls.push('channel');
      return Promise.resolve();
    },
  });

  it('runs a tap before the event, with its argument, and hands every event on', async () => {
    const calls: string[] = [];
    const listener = tapListener(recording(calls), {
      onClose: (reason) => calls.push(`tap close ${reason.code}`),
      onQr: (qr) => calls.push(`tap qr ${qr.qr}`),
    });
    listener.onQr({ qr: 'Q', expiresAt: 1 });
    listener.onOpen({ phoneNumber: '1', waJid: 'j', waLid: null });
    listener.onClose({ code: 428, message: 'lost' });
    await listener.onReceipt({} as never);
    await listener.onChannelMessage({} as never);
    expect(calls).toEqual([
      'tap qr Q',
      'qr',
      'open',
      'tap close 428',
      'close',
      'receipt',
      'channel',
    ]);
  });

  it("returns the listener's own promise: a refused inbound message stays refused", async () => {
    const calls: string[] = [];
    const listener = tapListener(recording(calls), { onMessage: () => calls.push('counted') });
    await expect(listener.onMessage({} as WaInboundMessage)).rejects.toThrow('not published');
    expect(calls).toEqual(['counted', 'message']);
  });
});
