import type { DataSource } from 'typeorm';

/** The WhatsApp message (`proto.IMessage` as JSON) a stored raw payload holds, if any. */
export type StoredMessageContent = Record<string, unknown>;

/**
 * Reads a message this session sent or received back from the message store (the `messages`
 * table the API writes from the gateway's events). Baileys asks for one when a peer could not
 * decrypt it (a retry receipt) and the message is no longer in its own recent-message cache —
 * after a restart or a failover to this gateway — and to quote a reply. The raw payload is the
 * Baileys `WAMessage` as JSON (bytes as base64), so its `message` field is what Baileys needs.
 */
export class StoredMessageReader {
  constructor(private readonly dataSource: DataSource) {}

  async content(
    sessionId: string,
    key: { remoteJid?: string | null; id?: string | null },
  ): Promise<StoredMessageContent | undefined> {
    if (!key.id || !key.remoteJid) return undefined;
    // One lookup on the unique key (session, chat, id, fromMe): the chat is the JID the message
    // was sent to, as stored.
    const rows: { raw: unknown }[] = await this.dataSource.query(
      'SELECT raw FROM messages WHERE session_id = $1 AND chat_jid = $2 AND id = $3 AND raw IS NOT NULL LIMIT 1',
      [sessionId, key.remoteJid, key.id],
    );
    const raw = rows[0]?.raw as { message?: unknown } | undefined;
    const message = raw?.message;
    return message && typeof message === 'object' ? (message as StoredMessageContent) : undefined;
  }
}
