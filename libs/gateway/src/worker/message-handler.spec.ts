import { parseMessageEventData } from '@wagw/contracts';
import type { WaInboundMessage } from '@wagw/whatsapp';
import { pino } from 'pino';
import { MessageHandler, type MessageHandlerContext } from './message-handler.js';

/** A context whose emitDurably validates as the real publisher does (and records). */
function context(): { ctx: MessageHandlerContext; emitted: unknown[]; warnings: unknown[] } {
  const emitted: unknown[] = [];
  const warnings: unknown[] = [];
  const logger = pino({ level: 'silent' });
  logger.warn = (obj: unknown) => void warnings.push(obj);
  const ctx: MessageHandlerContext = {
    sessionId: 's1',
    logger,
    connection: () => null,
    ownJid: () => '6281200000001@s.whatsapp.net',
    settings: () => ({ autoRead: false, presenceTyping: false }),
    emitDurably: (type, data) => {
      parseMessageEventData(data);
      emitted.push({ type, data });
      return Promise.resolve();
    },
    emit: () => undefined,
  };
  return { ctx, emitted, warnings };
}

const inbound = (over: Partial<WaInboundMessage> = {}): WaInboundMessage => ({
  id: 'MSG1',
  chatJid: '6591230001@s.whatsapp.net',
  fromJid: '6591230001@s.whatsapp.net',
  fromMe: false,
  timestamp: 1_700_000_000_000,
  text: 'hello',
  ...over,
});

describe('MessageHandler', () => {
  it('publishes a valid inbound message', async () => {
    const { ctx, emitted } = context();
    await new MessageHandler(ctx).onMessage(inbound());
    expect(emitted).toEqual([
      expect.objectContaining({
        type: 'message.received',
        data: expect.objectContaining({ id: 'MSG1', senderJid: '6591230001@s.whatsapp.net' }),
      }),
    ]);
  });

  it('skips a message the contract cannot carry with a warning, instead of rejecting (which crashed the gateway)', async () => {
    const { ctx, emitted, warnings } = context();
    await expect(
      new MessageHandler(ctx).onMessage(inbound({ fromJid: '', text: 'secret text' })),
    ).resolves.toBeUndefined();
    expect(emitted).toEqual([]);
    expect(warnings).toHaveLength(1);
    // Ids only: the content never reaches a log line.
    expect(JSON.stringify(warnings)).toContain('MSG1');
    expect(JSON.stringify(warnings)).not.toContain('secret text');
  });

  it('still rejects when the event cannot be made durable (the network must redeliver it)', async () => {
    const { ctx } = context();
    ctx.emitDurably = () => Promise.reject(new Error('lease lost'));
    await expect(new MessageHandler(ctx).onMessage(inbound())).rejects.toThrow('lease lost');
  });
});
