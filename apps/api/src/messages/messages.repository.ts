import { Inject, Injectable } from '@nestjs/common';
import type { MessageAckData, MessageEventData, MessageMedia } from '@wagw/contracts';
import { DataSource } from 'typeorm';

/** A message of one session to store: the event's data plus where it belongs. */
export interface MessageToStore extends MessageEventData {
  organizationId: string;
  sessionId: string;
}

export interface AckToApply extends MessageAckData {
  organizationId: string;
  sessionId: string;
}

/** A stored message as listed. */
export interface StoredMessage {
  rowId: number;
  id: string;
  chatJid: string;
  senderJid: string | null;
  fromMe: boolean;
  timestamp: number;
  type: string;
  text: string | null;
  media: MessageMedia | null;
  replyTo: string | null;
  status: string;
}

/** Where a page starts: after this (timestamp, rowId), newest first. */
export interface PagePosition {
  timestamp: number;
  rowId: number;
}

export interface ChatSummary {
  jid: string;
  lastTimestamp: number | null;
  lastMessage: StoredMessage | null;
}

export type ChatKind = 'chat' | 'channel';

/** A chat's kind follows WhatsApp's JIDs: channels (newsletters) are `…@newsletter`. */
export const chatKindOf = (jid: string): ChatKind =>
  jid.endsWith('@newsletter') ? 'channel' : 'chat';

/** The retention index's unit (`messages_retention_hour_idx` is on `timestamp / 3600000`). */
const HOUR_MS = 3_600_000;

const STATUS_RANK = `CASE s WHEN 'read' THEN 3 WHEN 'delivered' THEN 2 WHEN 'sent' THEN 1 ELSE 0 END`;
const rank = (column: string): string => STATUS_RANK.replace(' s ', ` ${column} `);

const MESSAGE_COLUMNS = `m.row_id, m.id, m.chat_jid, m.sender_jid, m.from_me, m.timestamp, m.type,
  m.text, m.media, m.reply_to, m.status`;

interface MessageRow {
  row_id: string;
  id: string;
  chat_jid: string;
  sender_jid: string | null;
  from_me: boolean;
  timestamp: string;
  type: string;
  text: string | null;
  media: MessageMedia | null;
  reply_to: string | null;
  status: string;
}

const toStored = (r: MessageRow): StoredMessage => ({
  rowId: Number(r.row_id),
  id: r.id,
  chatJid: r.chat_jid,
  senderJid: r.sender_jid,
  fromMe: r.from_me,
  timestamp: Number(r.timestamp),
  type: r.type,
  text: r.text,
  media: r.media,
  replyTo: r.reply_to,
  status: r.status,
});

/**
 * Stored messages, chats and channels. Storing is an idempotent upsert on WhatsApp's message
 * key (session, chat, id, direction): a redelivered event, or the API's own record of a send
 * followed by the gateway's `message.sent`, changes nothing but a status that moved forward.
 * Only rows of a session of the event's organization are written.
 */
@Injectable()
export class MessagesRepository {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /** Stores a batch in one statement (messages, then each touched chat's last message). */
  async store(messages: readonly MessageToStore[]): Promise<number> {
    // ON CONFLICT may not touch one row twice in a statement: one entry per key (the highest
    // status wins), kept in the order the messages arrived (a Map keeps first insertion).
    const byKey = new Map<string, MessageToStore>();
    const order = ['received', 'sent', 'delivered', 'read'];
    for (const m of messages) {
      const key = `${m.sessionId}\u0000${m.chatJid}\u0000${m.id}\u0000${m.fromMe}`;
      const seen = byKey.get(key);
      if (!seen || order.indexOf(m.status) > order.indexOf(seen.status)) byKey.set(key, m);
    }
    if (byKey.size === 0) return 0;
    const rows = [...byKey.values()];
    const col = <T>(pick: (m: MessageToStore) => T): T[] => rows.map(pick);
    const json = (v: unknown): string | null =>
      v === null || v === undefined ? null : JSON.stringify(v);
    const result: { row_id: string }[] = await this.dataSource.query(
      `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::bpchar[], $3::text[], $4::text[], $5::bool[],
                              $6::text[], $7::bigint[], $8::text[], $9::text[], $10::jsonb[],
                              $11::text[], $12::text[], $13::jsonb[])
                       WITH ORDINALITY
           AS v(organization_id, session_id, chat_jid, id, from_me, sender_jid, ts, type, text,
                media, reply_to, status, raw, arrival)
         WHERE EXISTS (SELECT 1 FROM sessions s
                       WHERE s.id = v.session_id AND s.organization_id = v.organization_id)
       ), numbered AS MATERIALIZED (
         -- Row ids in the order the messages arrived: WhatsApp stamps seconds, so a burst
         -- shares a timestamp and the row id orders it (pages, a chat's last message).
         SELECT a.*, nextval(pg_get_serial_sequence('messages', 'row_id')) AS row_id
         FROM (SELECT * FROM v ORDER BY arrival) a
       ), stored AS (
         INSERT INTO messages AS m (row_id, organization_id, session_id, chat_jid, id, from_me,
                                    sender_jid, timestamp, type, text, media, reply_to, status, raw)
         SELECT row_id, organization_id, session_id, chat_jid, id, from_me, sender_jid, ts, type,
                text, media, reply_to, status, raw FROM numbered
         -- One lock order for every batch: concurrent ones never wait on each other in a cycle.
         ORDER BY session_id, chat_jid, id, from_me
         ON CONFLICT (session_id, chat_jid, id, from_me) DO UPDATE SET
           -- A receipt that came first left a stub: the message fills it in.
           sender_jid = COALESCE(m.sender_jid, EXCLUDED.sender_jid),
           type = CASE WHEN m.type = 'unknown' THEN EXCLUDED.type ELSE m.type END,
           text = COALESCE(m.text, EXCLUDED.text),
           media = COALESCE(m.media, EXCLUDED.media),
           reply_to = COALESCE(m.reply_to, EXCLUDED.reply_to),
           raw = COALESCE(m.raw, EXCLUDED.raw),
           status = CASE WHEN ${rank('EXCLUDED.status')} > ${rank('m.status')}
                         THEN EXCLUDED.status ELSE m.status END
         RETURNING m.row_id, m.organization_id, m.session_id, m.chat_jid, m.timestamp
       ), latest AS (
         SELECT DISTINCT ON (session_id, chat_jid) * FROM stored
         ORDER BY session_id, chat_jid, timestamp DESC, row_id DESC
       ), chats AS (
         INSERT INTO chats AS c (session_id, jid, organization_id, kind, last_row_id, last_timestamp)
         SELECT session_id, chat_jid, organization_id,
                CASE WHEN chat_jid LIKE '%@newsletter' THEN 'channel' ELSE 'chat' END,
                row_id, timestamp
         FROM latest
         ON CONFLICT (session_id, jid) DO UPDATE SET
           last_row_id = EXCLUDED.last_row_id, last_timestamp = EXCLUDED.last_timestamp
         WHERE c.last_timestamp IS NULL
            OR (c.last_timestamp, c.last_row_id) < (EXCLUDED.last_timestamp, EXCLUDED.last_row_id)
       )
       SELECT row_id FROM stored`,
      [
        col((m) => m.organizationId),
        col((m) => m.sessionId),
        col((m) => m.chatJid),
        col((m) => m.id),
        col((m) => m.fromMe),
        col((m) => m.senderJid),
        col((m) => m.timestamp),
        col((m) => m.type),
        col((m) => m.text),
        col((m) => json(m.media)),
        col((m) => m.replyTo),
        col((m) => m.status),
        col((m) => json(m.raw)),
      ],
    );
    return result.length;
  }

  /**
   * Receipts move a sent message's status forward (never back). A receipt for a message not
   * stored yet (its `message.sent` is still on its way) leaves a stub the message fills in.
   */
  async applyAcks(acks: readonly AckToApply[]): Promise<void> {
    await this.store(
      acks.map((a) => ({
        organizationId: a.organizationId,
        sessionId: a.sessionId,
        id: a.messageId,
        chatJid: a.chatJid,
        senderJid: null,
        fromMe: true,
        timestamp: a.timestamp,
        type: 'unknown',
        text: null,
        media: null,
        replyTo: null,
        status: a.status,
        raw: null,
      })),
    );
  }

  /** One page of a chat's (or channel's) messages, newest first, after `after`. */
  async page(
    organizationId: string,
    sessionId: string,
    chatJid: string,
    limit: number,
    after: PagePosition | null,
  ): Promise<{ items: StoredMessage[]; next: PagePosition | null }> {
    const rows: MessageRow[] = await this.dataSource.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.session_id = $1 AND m.chat_jid = $2 AND m.organization_id = $3
         AND ($4::bigint IS NULL OR (m.timestamp, m.row_id) < ($4::bigint, $5::bigint))
       ORDER BY m.timestamp DESC, m.row_id DESC
       LIMIT $6`,
      [
        sessionId,
        chatJid,
        organizationId,
        after?.timestamp ?? null,
        after?.rowId ?? null,
        limit + 1,
      ],
    );
    const items = rows.slice(0, limit).map(toStored);
    const last = items.at(-1);
    return {
      items,
      next: rows.length > limit && last ? { timestamp: last.timestamp, rowId: last.rowId } : null,
    };
  }

  /** Whether the session knows this chat or channel (has stored any of it, or follows it). */
  async knows(
    organizationId: string,
    sessionId: string,
    jid: string,
    kind: ChatKind,
  ): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM chats WHERE session_id = $1 AND jid = $2 AND organization_id = $3 AND kind = $4`,
      [sessionId, jid, organizationId, kind],
    );
    return rows.length > 0;
  }

  /** Records a channel as known (followed) without any post. */
  async rememberChannel(organizationId: string, sessionId: string, jid: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO chats (session_id, jid, organization_id, kind) VALUES ($1, $2, $3, 'channel')
       ON CONFLICT (session_id, jid) DO NOTHING`,
      [sessionId, jid, organizationId],
    );
  }

  /**
   * A page of chats (or channels), the most recently active first, each with its last
   * message; a chat known without messages sorts last. Keyset on (last_timestamp, jid).
   */
  async chats(
    organizationId: string,
    sessionId: string,
    kind: ChatKind,
    limit: number,
    after: { timestamp: number; jid: string } | null,
  ): Promise<{ items: ChatSummary[]; next: { timestamp: number; jid: string } | null }> {
    const rows: (MessageRow & { jid: string; last_timestamp: string | null })[] =
      await this.dataSource.query(
        `SELECT c.jid, c.last_timestamp, ${MESSAGE_COLUMNS}
         FROM chats c LEFT JOIN messages m ON m.row_id = c.last_row_id
         WHERE c.session_id = $1 AND c.organization_id = $2 AND c.kind = $3
           AND ($4::bigint IS NULL
                OR (COALESCE(c.last_timestamp, -1), c.jid) < ($4::bigint, $5::text))
         ORDER BY COALESCE(c.last_timestamp, -1) DESC, c.jid DESC
         LIMIT $6`,
        [sessionId, organizationId, kind, after?.timestamp ?? null, after?.jid ?? null, limit + 1],
      );
    const items = rows.slice(0, limit).map((r) => ({
      jid: r.jid,
      lastTimestamp: r.last_timestamp === null ? null : Number(r.last_timestamp),
      lastMessage: r.row_id === null ? null : toStored(r),
    }));
    const last = items.at(-1);
    return {
      items,
      next:
        rows.length > limit && last ? { timestamp: last.lastTimestamp ?? -1, jid: last.jid } : null,
    };
  }

  /**
   * Deletes up to `batch` messages sent in a whole hour before the one `before` (ms) falls in:
   * expired messages go within the hour after they expire, found by the hour index
   * (`messages_retention_hour_idx`). Small batches that skip rows locked by a concurrent
   * writer: the table is never locked, and each batch is short.
   */
  async purgeOlderThan(before: number, batch: number): Promise<number> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `WITH doomed AS MATERIALIZED (
         SELECT row_id FROM messages WHERE (timestamp / ${HOUR_MS}) < $1
         ORDER BY (timestamp / ${HOUR_MS}) LIMIT $2 FOR UPDATE SKIP LOCKED)
       DELETE FROM messages m USING doomed d WHERE m.row_id = d.row_id
       RETURNING 1`,
      [Math.floor(before / HOUR_MS), batch],
    );
    return affected;
  }
}
