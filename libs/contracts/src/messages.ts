import {
  integer,
  InvalidPayloadError,
  isRecord,
  nullable,
  oneOf,
  record,
  text,
  timestampMs,
} from './wire-validation.js';

/** Message content kinds, in events, storage and the send command. WIRE-STABLE. */
export const MESSAGE_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'location',
  'contact',
  'reaction',
  'unknown',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** A stored message's status: inbound `received`; outbound `sent` → `delivered` → `read`. */
export const MESSAGE_STATUSES = ['received', 'sent', 'delivered', 'read'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const MESSAGE_LIMITS = {
  id: 128,
  jid: 256,
  text: 65_536,
  mimetype: 255,
  filename: 255,
  mentions: 1_024,
  /** The raw payload as JSON, in characters. */
  raw: 262_144,
} as const;

/** What is kept of a media message: never the bytes. */
export type MessageMedia = {
  mimetype: string;
  filename: string | null;
  size: number | null;
  sha256: string | null;
};

/** `message.received`, `message.sent` and `channel.message` (chatJid = the channel's JID). */
export type MessageEventData = {
  id: string;
  chatJid: string;
  /** Who wrote it: the sender's JID (ours for `fromMe`); null when the network did not say. */
  senderJid: string | null;
  fromMe: boolean;
  timestamp: number;
  type: MessageType;
  /** The text, or a media message's caption. */
  text: string | null;
  media: MessageMedia | null;
  replyTo: string | null;
  status: MessageStatus;
  /** The driver's raw message, JSON. */
  raw: unknown;
};

/** `message.ack`: a receipt for a message this session sent. */
export type MessageAckData = {
  messageId: string;
  chatJid: string;
  status: 'delivered' | 'read';
  timestamp: number;
};

const jid = (v: unknown, field: string): string => text(v, field, MESSAGE_LIMITS.jid);

function parseMedia(v: unknown): MessageMedia {
  const o = record(v, 'data.media');
  return {
    mimetype: text(o.mimetype, 'data.media.mimetype', MESSAGE_LIMITS.mimetype),
    filename: nullable(o.filename ?? null, (f) =>
      text(f, 'data.media.filename', MESSAGE_LIMITS.filename),
    ),
    size: nullable(o.size ?? null, (s) =>
      integer(s, 'data.media.size', 0, Number.MAX_SAFE_INTEGER),
    ),
    sha256: nullable(o.sha256 ?? null, (s) => text(s, 'data.media.sha256', 128)),
  };
}

export function parseMessageEventData(d: Record<string, unknown>): MessageEventData {
  if (typeof d.fromMe !== 'boolean') throw new InvalidPayloadError('data.fromMe must be a boolean');
  const raw = d.raw ?? null;
  if (raw !== null && JSON.stringify(raw).length > MESSAGE_LIMITS.raw)
    throw new InvalidPayloadError(`data.raw must be at most ${MESSAGE_LIMITS.raw} characters`);
  return {
    id: text(d.id, 'data.id', MESSAGE_LIMITS.id),
    chatJid: jid(d.chatJid, 'data.chatJid'),
    senderJid: nullable(d.senderJid ?? null, (v) => jid(v, 'data.senderJid')),
    fromMe: d.fromMe,
    timestamp: timestampMs(d.timestamp, 'data.timestamp'),
    type: oneOf(d.type, 'data.type', MESSAGE_TYPES),
    // Text may hold newlines and tabs but never NUL (Postgres text refuses it).
    text: nullable(d.text ?? null, (v) => messageText(v, 'data.text')),
    media: nullable(d.media ?? null, parseMedia),
    replyTo: nullable(d.replyTo ?? null, (v) => text(v, 'data.replyTo', MESSAGE_LIMITS.id)),
    status: oneOf(d.status, 'data.status', MESSAGE_STATUSES),
    raw: isRecord(raw) || Array.isArray(raw) ? raw : null,
  };
}

export function parseMessageAckData(d: Record<string, unknown>): MessageAckData {
  return {
    messageId: text(d.messageId, 'data.messageId', MESSAGE_LIMITS.id),
    chatJid: jid(d.chatJid, 'data.chatJid'),
    status: oneOf(d.status, 'data.status', ['delivered', 'read'] as const),
    timestamp: timestampMs(d.timestamp, 'data.timestamp'),
  };
}

/** Message text: any characters but NUL, up to the limit. */
export function messageText(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length > MESSAGE_LIMITS.text)
    throw new InvalidPayloadError(`${field} must be a string of at most ${MESSAGE_LIMITS.text}`);
  if (v.includes('\u0000')) throw new InvalidPayloadError(`${field} holds NUL`);
  return v;
}

/** Media to send: the bytes (base64), fetched by the API when the client gave a URL. */
export interface OutboundMedia {
  base64: string;
  mimetype: string;
  filename: string | null;
  caption: string | null;
}

/** Exactly one content of an outbound message, as the API resolved it. WIRE-STABLE. */
export type MessageContent =
  | { type: 'text'; text: string }
  | { type: 'image' | 'video' | 'audio' | 'document'; media: OutboundMedia }
  | {
      type: 'location';
      latitude: number;
      longitude: number;
      name: string | null;
      address: string | null;
    }
  | { type: 'contact'; displayName: string; vcard: string }
  | { type: 'reaction'; messageId: string; emoji: string };

const finite = (v: unknown, field: string, bound: number): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > bound)
    throw new InvalidPayloadError(`${field} must be a number in [-${bound}, ${bound}]`);
  return v;
};
const optionalText = (v: unknown, field: string, max: number): string | null =>
  nullable(v ?? null, (x) => text(x, field, max));

export function parseMessageContent(payload: unknown): MessageContent {
  const o = record(payload, 'content');
  const type = oneOf(o.type, 'content.type', MESSAGE_TYPES);
  switch (type) {
    case 'text':
      return { type, text: messageText(o.text, 'content.text') };
    case 'image':
    case 'video':
    case 'audio':
    case 'document': {
      const m = record(o.media, 'content.media');
      if (typeof m.base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(m.base64))
        throw new InvalidPayloadError('content.media.base64 must be base64');
      return {
        type,
        media: {
          base64: m.base64,
          mimetype: text(m.mimetype, 'content.media.mimetype', MESSAGE_LIMITS.mimetype),
          filename: optionalText(m.filename, 'content.media.filename', MESSAGE_LIMITS.filename),
          caption: nullable(m.caption ?? null, (c) => messageText(c, 'content.media.caption')),
        },
      };
    }
    case 'location':
      return {
        type,
        latitude: finite(o.latitude, 'content.latitude', 90),
        longitude: finite(o.longitude, 'content.longitude', 180),
        name: optionalText(o.name, 'content.name', 1_000),
        address: optionalText(o.address, 'content.address', 1_000),
      };
    case 'contact':
      return {
        type,
        displayName: text(o.displayName, 'content.displayName', 1_000),
        vcard: messageText(o.vcard, 'content.vcard'),
      };
    case 'reaction':
      return {
        type,
        messageId: text(o.messageId, 'content.messageId', MESSAGE_LIMITS.id),
        emoji: messageText(o.emoji, 'content.emoji'),
      };
    case 'unknown':
      throw new InvalidPayloadError('content.type unknown cannot be sent');
  }
}

/** `to`, `replyTo` and `mentions` of an outbound message, beside its content. */
export interface SendMessageRequest {
  sessionId: string;
  /** A normalised JID. */
  to: string;
  content: MessageContent;
  replyTo: string | null;
  mentions: string[];
}

export function parseSendMessageRequest(payload: unknown): SendMessageRequest {
  const o = record(payload);
  const mentions = o.mentions ?? [];
  if (!Array.isArray(mentions) || mentions.length > MESSAGE_LIMITS.mentions)
    throw new InvalidPayloadError('mentions must be an array of JIDs');
  return {
    sessionId: text(o.sessionId, 'sessionId', 200),
    to: jid(o.to, 'to'),
    content: parseMessageContent(o.content),
    replyTo: optionalText(o.replyTo, 'replyTo', MESSAGE_LIMITS.id),
    mentions: mentions.map((m, i) => jid(m, `mentions[${i}]`)),
  };
}
