import { describe, expect, it } from '@jest/globals';
import type { BinaryNode } from '@whiskeysockets/baileys';
import { receiptsOf } from './baileys-message.mapper.js';

const me = { id: '6281400000001:3@s.whatsapp.net', lid: '100000000000001:3@lid' };
const receipt = (attrs: Record<string, string>, ids: string[] = []): BinaryNode => ({
  tag: 'receipt',
  attrs: { id: 'M1', t: '1790000000', ...attrs },
  ...(ids.length
    ? {
        content: [
          { tag: 'list', attrs: {}, content: ids.map((id) => ({ tag: 'item', attrs: { id } })) },
        ],
      }
    : {}),
});

describe('receiptsOf', () => {
  it("reads a peer's delivery and read receipts of our messages, every listed id", () => {
    expect(receiptsOf(receipt({ from: '6598400000001@s.whatsapp.net' }, ['M2', 'M3']), me)).toEqual(
      ['M1', 'M2', 'M3'].map((messageId) => ({
        messageId,
        chatJid: '6598400000001@s.whatsapp.net',
        status: 'delivered',
        timestamp: 1_790_000_000_000,
      })),
    );
    for (const type of ['read', 'played'])
      expect(receiptsOf(receipt({ from: '100000000000009@lid', type }), me)).toMatchObject([
        { messageId: 'M1', chatJid: '100000000000009@lid', status: 'read' },
      ]);
  });

  it('reads nothing from receipts that are not about our sent 1:1 messages', () => {
    const peer = '6598400000001@s.whatsapp.net';
    const others: Record<string, string>[] = [
      { from: peer, type: 'retry' },
      { from: peer, type: 'sender' },
      { from: peer, type: 'inactive' },
      { from: peer, recipient: '6281400000001@s.whatsapp.net' },
      { from: '120363000000000001@g.us', participant: peer },
      { from: 'status@broadcast', participant: peer },
      { from: '120363000000000002@newsletter' },
      { from: '6281400000001:5@s.whatsapp.net', type: 'read-self' },
      { from: '100000000000001:5@lid' },
    ];
    for (const attrs of others) expect(receiptsOf(receipt(attrs), me)).toEqual([]);
  });
});
