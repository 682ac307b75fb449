import { createHash } from 'node:crypto';
import {
  WA_MESSAGE_LIMITS as MESSAGE_LIMITS,
  type WaChannelMessage,
  type WaInboundMessage,
  type WaMessageContent,
  type WaMessageMedia as MessageMedia,
  type WaMessageType as MessageType,
  type WaReceipt,
  type WaSendOptions,
} from '@wagw/whatsapp';
import type { AnyMessageContent, BinaryNode, proto, WAMessage } from '@whiskeysockets/baileys';

/**
 * Baileys' messages ⇄ the port's: what an inbound `WAMessage` is (type, text or caption, media
 * metadata, the quoted id, a JSON copy of it) and what Baileys must be given to send a content.
 * Pure functions, no socket: `unwrap` is Baileys' `normalizeMessageContent`, passed in because
 * Baileys is loaded on demand (ESM-only).
 */

type Unwrap = (content: proto.IMessage | null | undefined) => proto.IMessage | undefined;

/** What one inbound message is, whatever the chat. Null: nothing to store (protocol, stub). */
interface Classified {
  type: MessageType;
  text: string | null;
  media: MessageMedia | null;
  replyTo: string | null;
}

const hex = (bytes: Uint8Array | string | null | undefined): string | null => {
  if (!bytes || bytes.length === 0) return null;
  return Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes).toString(
    'hex',
  );
};

const size = (n: number | { toString(): string } | null | undefined): number | null => {
  if (n === null || n === undefined) return null;
  const value = Number(n.toString());
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
};

const mediaOf = (
  m: {
    mimetype?: string | null;
    fileLength?: number | { toString(): string } | null;
    fileSha256?: Uint8Array | null;
    fileName?: string | null;
  },
  fallbackMime: string,
): MessageMedia => ({
  mimetype: (m.mimetype || fallbackMime).slice(0, MESSAGE_LIMITS.mimetype),
  filename: m.fileName ? m.fileName.slice(0, MESSAGE_LIMITS.filename) : null,
  size: size(m.fileLength),
  sha256: hex(m.fileSha256),
});

const quoted = (context: proto.IContextInfo | null | undefined): string | null =>
  context?.stanzaId ?? null;

/** The content kinds the contract names; anything else with content is `unknown`. */
export function classify(content: proto.IMessage | undefined): Classified | null {
  if (!content) return null;
  if (content.conversation !== undefined && content.conversation !== null)
    return { type: 'text', text: content.conversation, media: null, replyTo: null };
  const ext = content.extendedTextMessage;
  if (ext)
    return { type: 'text', text: ext.text ?? '', media: null, replyTo: quoted(ext.contextInfo) };
  const image = content.imageMessage;
  if (image)
    return {
      type: 'image',
      text: image.caption ?? null,
      media: mediaOf(image, 'image/jpeg'),
      replyTo: quoted(image.contextInfo),
    };
  const video = content.videoMessage;
  if (video)
    return {
      type: 'video',
      text: video.caption ?? null,
      media: mediaOf(video, 'video/mp4'),
      replyTo: quoted(video.contextInfo),
    };
  const audio = content.audioMessage;
  if (audio)
    return {
      type: 'audio',
      text: null,
      media: mediaOf(audio, 'audio/ogg; codecs=opus'),
      replyTo: quoted(audio.contextInfo),
    };
  const doc = content.documentMessage;
  if (doc)
    return {
      type: 'document',
      text: doc.caption ?? null,
      media: mediaOf(doc, 'application/octet-stream'),
      replyTo: quoted(doc.contextInfo),
    };
  const location = content.locationMessage ?? content.liveLocationMessage;
  if (location) {
    const name = 'name' in location ? location.name : null;
    return {
      type: 'location',
      text: name ?? null,
      media: null,
      replyTo: quoted(location.contextInfo),
    };
  }
  const contact = content.contactMessage;
  if (contact)
    return {
      type: 'contact',
      text: contact.displayName ?? null,
      media: null,
      replyTo: quoted(contact.contextInfo),
    };
  const contacts = content.contactsArrayMessage;
  if (contacts)
    return {
      type: 'contact',
      text: contacts.displayName ?? contacts.contacts?.[0]?.displayName ?? null,
      media: null,
      replyTo: quoted(contacts.contextInfo),
    };
  const reaction = content.reactionMessage;
  if (reaction)
    return {
      type: 'reaction',
      text: reaction.text ?? '',
      media: null,
      replyTo: reaction.key?.id ?? null,
    };
  // Protocol traffic (revokes, key distribution, app-state keys, history notices) is not a
  // message of the chat: nothing to store.
  const keys = Object.keys(content).filter(
    (k) =>
      (content as Record<string, unknown>)[k] !== null &&
      (content as Record<string, unknown>)[k] !== undefined &&
      !NOT_CONTENT.has(k),
  );
  if (keys.length === 0) return null;
  const sticker = content.stickerMessage;
  return {
    type: 'unknown',
    text: null,
    media: sticker ? mediaOf(sticker, 'image/webp') : null,
    replyTo: null,
  };
}

/** Fields of a Message that carry no user content of their own. */
const NOT_CONTENT = new Set([
  'messageContextInfo',
  'senderKeyDistributionMessage',
  'protocolMessage',
  'fastRatchetKeySenderKeyDistributionMessage',
  'deviceSentMessage',
  'keepInChatMessage',
  'pinInChatMessage',
  'encReactionMessage',
  'pollUpdateMessage',
  'call',
]);

/** A 1:1 (or group) message, or null when it holds nothing to store. */
export function toInbound(message: WAMessage, unwrap: Unwrap): WaInboundMessage | null {
  const { key } = message;
  if (!key.id || !key.remoteJid) return null;
  const kind = classify(unwrap(message.message));
  if (!kind) return null;
  const chatJid = phoneJidFirst(key.remoteJid, key.remoteJidAlt);
  return {
    id: key.id,
    chatJid,
    fromJid: key.participant ? phoneJidFirst(key.participant, key.participantAlt) : chatJid,
    fromMe: key.fromMe === true,
    timestamp: timestampOf(message),
    text: kind.text,
    type: kind.type,
    media: kind.media,
    replyTo: kind.replyTo,
    raw: rawOf(message),
  };
}

/**
 * A LID-addressed message names the chat by its LID and the phone JID as the "alt": the phone JID
 * is what a chat is stored and sent to under, so it wins when Baileys knows it.
 */
function phoneJidFirst(jid: string, alt: string | null | undefined): string {
  return jid.endsWith('@lid') && alt?.endsWith('@s.whatsapp.net') ? alt : jid;
}

/** A receipt's `type` → what it says of a message we sent (Baileys' `getStatusFromReceiptType`). */
const RECEIPT_STATUS: Record<string, WaReceipt['status']> = {
  '': 'delivered',
  read: 'read',
  'read-self': 'read',
  played: 'read',
};

const userOf = (jid: string | undefined): string | undefined => jid?.split('@')[0]?.split(':')[0];

/**
 * The delivery and read receipts a `receipt` stanza brings for messages this account sent in a
 * 1:1 chat (`id` and every `list/item` id), read as Baileys' `handleReceipt` reads them: from a
 * peer (not one of our own devices), no `recipient` (that names a message we received), not a
 * group, broadcast or channel. Anything else (retry, sender, inactive, our own devices' reads):
 * none. `me`: the account's phone and LID jids.
 */
export function receiptsOf(
  node: BinaryNode,
  me: { id: string; lid?: string } | undefined,
): WaReceipt[] {
  const { from, id, recipient, participant, type, t } = node.attrs;
  const status = RECEIPT_STATUS[type ?? ''];
  if (!status || !from || !id || recipient) return [];
  if (!from.endsWith('@s.whatsapp.net') && !from.endsWith('@lid')) return [];
  const sender = userOf(participant || from);
  if (sender === userOf(me?.id) || sender === userOf(me?.lid)) return [];
  const list = Array.isArray(node.content)
    ? node.content.find((child) => child.tag === 'list')
    : undefined;
  const items = Array.isArray(list?.content)
    ? list.content.filter((child) => child.tag === 'item').map((item) => item.attrs.id)
    : [];
  const timestamp = t && /^\d+$/.test(t) ? Number(t) * 1000 : Date.now();
  return [id, ...items]
    .filter((messageId): messageId is string => !!messageId)
    .map((messageId) => ({ messageId, chatJid: from, status, timestamp }));
}

/** A channel (newsletter) post. */
export function toChannelMessage(message: WAMessage, unwrap: Unwrap): WaChannelMessage | null {
  const { key } = message;
  if (!key.id || !key.remoteJid) return null;
  const kind = classify(unwrap(message.message));
  if (!kind) return null;
  return {
    id: key.id,
    channelJid: key.remoteJid,
    timestamp: timestampOf(message),
    text: kind.text,
    type: kind.type,
    media: kind.media,
    raw: rawOf(message),
  };
}

function timestampOf(message: WAMessage): number {
  const seconds = size(message.messageTimestamp);
  return (seconds ?? Math.floor(Date.now() / 1000)) * 1000;
}

/** Thumbnails and the like: large, and nothing a stored message needs. */
const HEAVY = new Set(['jpegThumbnail', 'thumbnailDirectPath', 'pngThumbnail', 'streamingSidecar']);

/**
 * The message as JSON: bytes as base64, 64-bit numbers as numbers, thumbnails dropped; when still
 * larger than the contract allows, only the key, timestamp and the content's type are kept.
 */
export function rawOf(message: WAMessage): Record<string, unknown> {
  const json = JSON.stringify(message, (name, value: unknown) => {
    if (HEAVY.has(name)) return undefined;
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    if (isBufferJson(value)) return Buffer.from(value.data).toString('base64');
    if (isLong(value)) return Number(value.toString());
    if (typeof value === 'bigint') return String(value);
    return value;
  });
  if (json.length <= MESSAGE_LIMITS.raw) return JSON.parse(json) as Record<string, unknown>;
  return {
    key: message.key,
    messageTimestamp: size(message.messageTimestamp),
    truncated: true,
  };
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  );
}

function isLong(v: unknown): v is { toString(): string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { low?: unknown }).low === 'number' &&
    typeof (v as { high?: unknown }).high === 'number' &&
    typeof (v as { unsigned?: unknown }).unsigned === 'boolean'
  );
}

// --- outbound --------------------------------------------------------------------------------

/** What Baileys' `sendMessage` is given for one content (media from bytes). */
export function toBaileysContent(
  content: WaMessageContent,
  chatJid: string,
  options: WaSendOptions,
): AnyMessageContent {
  const mentions = options.mentions.length > 0 ? { mentions: [...options.mentions] } : {};
  switch (content.type) {
    case 'text':
      return { text: content.text, ...mentions };
    case 'image':
    case 'video':
    case 'document': {
      const { media } = content;
      const bytes = Buffer.from(media.base64, 'base64');
      const caption = media.caption !== null ? { caption: media.caption } : {};
      if (content.type === 'image')
        return { image: bytes, mimetype: media.mimetype, ...caption, ...mentions };
      if (content.type === 'video')
        return { video: bytes, mimetype: media.mimetype, ...caption, ...mentions };
      return {
        document: bytes,
        mimetype: media.mimetype,
        fileName: media.filename ?? 'file',
        ...caption,
        ...mentions,
      };
    }
    case 'audio': {
      const { media } = content;
      // A voice note when it is Opus in Ogg, as WhatsApp's own clients record them.
      const ptt = /^audio\/ogg/.test(media.mimetype);
      return { audio: Buffer.from(media.base64, 'base64'), mimetype: media.mimetype, ptt };
    }
    case 'location':
      return {
        location: {
          degreesLatitude: content.latitude,
          degreesLongitude: content.longitude,
          ...(content.name !== null ? { name: content.name } : {}),
          ...(content.address !== null ? { address: content.address } : {}),
        },
      };
    case 'contact':
      return {
        contacts: {
          displayName: content.displayName,
          contacts: [{ displayName: content.displayName, vcard: content.vcard }],
        },
      };
    case 'reaction':
      return {
        react: {
          text: content.emoji,
          // A reaction names the message it reacts to; without a sender, ours is the other's.
          key: { remoteJid: chatJid, id: content.messageId, fromMe: false },
        },
      };
  }
}

/** The SHA-256 of outbound media bytes, hex, as inbound media report it. */
export function mediaSha256(content: WaMessageContent): string | null {
  if (!('media' in content)) return null;
  return createHash('sha256').update(Buffer.from(content.media.base64, 'base64')).digest('hex');
}
