import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDataSource } from '@wagw/persistence';
import { rawOf } from '@wagw/whatsapp-baileys';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import type { DataSource } from 'typeorm';
import { MessagesRepository } from '../../apps/api/src/messages/messages.repository.js';
import { StoredMessageReader } from '../../libs/gateway/src/worker/stored-message.reader.js';
import { newOrganizationId, newSession } from '../support/session-factory.js';

/**
 * Baileys' `getMessage` (a peer's retry receipt, a quoted reply) answered from the message store:
 * the raw payload the gateway published is the `WAMessage` as JSON, and turns back into the
 * protobuf Baileys re-encrypts, bytes included.
 */
describe('StoredMessageReader', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 2,
      applicationName: 'wagw-stored-message-reader',
    }).initialize();
  });
  afterAll(() => ds.destroy());

  it('reads a sent message back as the protobuf Baileys sent, bytes and all', async () => {
    const org = newOrganizationId();
    const session = await newSession(ds, org);
    const chat = '6591234567@s.whatsapp.net';
    const sent: WAMessage = {
      key: { remoteJid: chat, fromMe: true, id: '3EB0READBACK' },
      messageTimestamp: 1_700_000_000,
      message: {
        imageMessage: {
          mimetype: 'image/png',
          caption: 'a picture',
          mediaKey: Buffer.alloc(32, 9),
          fileSha256: Buffer.alloc(32, 3),
          fileLength: 1234,
          directPath: '/v/t62.7118-24/x',
        },
      },
    };
    await new MessagesRepository(ds).store([
      {
        organizationId: org,
        sessionId: session,
        id: '3EB0READBACK',
        chatJid: chat,
        senderJid: null,
        fromMe: true,
        timestamp: 1_700_000_000_000,
        type: 'image',
        text: 'a picture',
        media: null,
        replyTo: null,
        status: 'sent',
        raw: rawOf(sent),
      },
    ]);
    const reader = new StoredMessageReader(ds);
    const content = await reader.content(session, { remoteJid: chat, id: '3EB0READBACK' });
    const message = proto.Message.fromObject(content!);
    expect(message.imageMessage?.caption).toBe('a picture');
    expect(Buffer.from(message.imageMessage!.mediaKey!)).toEqual(Buffer.alloc(32, 9));
    expect(Buffer.from(message.imageMessage!.fileSha256!)).toEqual(Buffer.alloc(32, 3));
    expect(Number(message.imageMessage!.fileLength)).toBe(1234);
    // Another chat, another session, an unknown id: nothing.
    expect(
      await reader.content(session, { remoteJid: '65999@s.whatsapp.net', id: '3EB0READBACK' }),
    ).toBeUndefined();
    expect(
      await reader.content(await newSession(ds, org), { remoteJid: chat, id: '3EB0READBACK' }),
    ).toBeUndefined();
    expect(await reader.content(session, { remoteJid: chat, id: 'NOPE' })).toBeUndefined();
  });
});
