import { createHash } from 'node:crypto';
import { aesDecryptWithIV, getMediaKeys, hmacSign, type proto } from '@whiskeysockets/baileys';
import { SimError } from '../../sim.errors.js';

/** Content kinds a simulated phone tells apart, as the gateway's contract names them. */
export type SimContentType =
  | 'text'
  | 'image'
  | 'video'
  | 'audio'
  | 'document'
  | 'location'
  | 'contact'
  | 'reaction'
  | 'unknown';

/** Media as the phone received it: the message's metadata and, when fetched, the bytes' hash. */
export interface SimMediaContent {
  mimetype: string | null;
  fileName: string | null;
  fileLength: number | null;
  /** The plaintext's SHA-256 the sender declared (hex). */
  fileSha256: string | null;
  directPath: string | null;
  ptt?: boolean;
  /**
   * The phone downloaded the file from the media host and decrypted it: the SHA-256 (hex) of
   * what it got, and its size; null when it could not (not uploaded here, MAC mismatch).
   */
  downloaded: { sha256: string; size: number } | null;
}

/** What a simulated phone read out of a decrypted message, JSON for the control API. */
export interface SimMessageContent {
  type: SimContentType;
  text?: string;
  caption?: string | null;
  media?: SimMediaContent;
  location?: { latitude: number; longitude: number; name: string | null; address: string | null };
  contact?: { displayName: string | null; vcard: string | null };
  reaction?: { messageId: string | null; emoji: string };
  /** The id of the message this one quotes. */
  replyTo?: string | null;
  mentions?: string[];
}

/** The fields the four media messages have between them (each has a subset). */
type AnyMedia = proto.Message.IImageMessage &
  proto.Message.IVideoMessage &
  proto.Message.IAudioMessage &
  proto.Message.IDocumentMessage;

/** Reads the encrypted file of a direct path from the media host; undefined when unknown. */
export type MediaFiles = (directPath: string) => Buffer | undefined;

const MEDIA_TYPES = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  document: 'document',
} as const;

const hex = (b: Uint8Array | null | undefined): string | null =>
  b && b.length > 0 ? Buffer.from(b).toString('hex') : null;

const num = (n: number | { toString(): string } | null | undefined): number | null =>
  n === null || n === undefined ? null : Number(n.toString());

/** Unwraps a device-sent copy and the usual containers (ephemeral, view once, doc + caption). */
function unwrap(message: proto.IMessage): proto.IMessage {
  let m: proto.IMessage = message.deviceSentMessage?.message ?? message;
  for (let i = 0; i < 4; i++) {
    const inner =
      m.ephemeralMessage?.message ??
      m.viewOnceMessage?.message ??
      m.viewOnceMessageV2?.message ??
      m.documentWithCaptionMessage?.message;
    if (!inner) break;
    m = inner;
  }
  return m;
}

/** The media file, decrypted as a phone does: AES-256-CBC, then the 10-byte HMAC checked. */
async function download(
  media: { mediaKey?: Uint8Array | null; directPath?: string | null },
  kind: keyof typeof MEDIA_TYPES,
  files: MediaFiles | undefined,
): Promise<SimMediaContent['downloaded']> {
  if (!files || !media.mediaKey || !media.directPath) return null;
  const enc = files(media.directPath);
  if (!enc || enc.length < 10) return null;
  const keys = await getMediaKeys(media.mediaKey, kind);
  const iv = Buffer.from(keys.iv ?? []);
  const { cipherKey, macKey } = keys;
  if (!cipherKey || !macKey) return null;
  const body = enc.subarray(0, enc.length - 10);
  const mac = hmacSign(Buffer.concat([iv, body]), macKey).subarray(0, 10);
  if (!mac.equals(enc.subarray(enc.length - 10))) return null;
  const plain = aesDecryptWithIV(body, cipherKey, iv);
  return { sha256: createHash('sha256').update(plain).digest('hex'), size: plain.length };
}

/** What the phone sees in a decrypted message. */
export async function describeMessage(
  message: proto.IMessage,
  files?: MediaFiles,
): Promise<SimMessageContent> {
  const m = unwrap(message);
  if (typeof m.conversation === 'string') return { type: 'text', text: m.conversation };
  if (m.extendedTextMessage) {
    const ctx = m.extendedTextMessage.contextInfo;
    return {
      type: 'text',
      text: m.extendedTextMessage.text ?? '',
      replyTo: ctx?.stanzaId ?? null,
      mentions: ctx?.mentionedJid ?? [],
    };
  }
  for (const kind of Object.keys(MEDIA_TYPES) as (keyof typeof MEDIA_TYPES)[]) {
    const media: AnyMedia | null | undefined = m[`${kind}Message`];
    if (!media) continue;
    return {
      type: kind,
      caption: media.caption ?? null,
      media: {
        mimetype: media.mimetype ?? null,
        fileName: media.fileName ?? null,
        fileLength: num(media.fileLength),
        fileSha256: hex(media.fileSha256),
        directPath: media.directPath ?? null,
        ...(kind === 'audio' ? { ptt: media.ptt === true } : {}),
        downloaded: await download(media, kind, files),
      },
      replyTo: media.contextInfo?.stanzaId ?? null,
      mentions: media.contextInfo?.mentionedJid ?? [],
    };
  }
  if (m.locationMessage) {
    const l = m.locationMessage;
    return {
      type: 'location',
      location: {
        latitude: l.degreesLatitude ?? 0,
        longitude: l.degreesLongitude ?? 0,
        name: l.name ?? null,
        address: l.address ?? null,
      },
    };
  }
  const contact = m.contactMessage ?? m.contactsArrayMessage?.contacts?.[0];
  if (contact) {
    return {
      type: 'contact',
      contact: {
        displayName: m.contactsArrayMessage?.displayName ?? contact.displayName ?? null,
        vcard: contact.vcard ?? null,
      },
    };
  }
  if (m.reactionMessage) {
    return {
      type: 'reaction',
      reaction: {
        messageId: m.reactionMessage.key?.id ?? null,
        emoji: m.reactionMessage.text ?? '',
      },
    };
  }
  return { type: 'unknown' };
}

/** The record's `text`: the text, a caption, a reaction's emoji, a place's or contact's name. */
export function textOfContent(content: SimMessageContent): string {
  return (
    content.text ??
    content.caption ??
    content.reaction?.emoji ??
    content.location?.name ??
    content.contact?.displayName ??
    ''
  );
}

/**
 * A message a simulated phone sends, from the control API's `content` (JSON): the same kinds a
 * gateway sends. Media are metadata only (the phone "uploaded" them elsewhere): a receiver keeps
 * metadata, never bytes, so that is all it needs to see.
 */
export function phoneMessage(input: Record<string, unknown>): proto.IMessage {
  const str = (k: string): string | undefined =>
    typeof input[k] === 'string' ? input[k] : undefined;
  const need = (k: string): string => {
    const v = str(k);
    if (v === undefined) throw invalid(k, 'a string is required');
    return v;
  };
  const context = str('replyTo') ? { contextInfo: { stanzaId: str('replyTo') } } : {};
  switch (input['type']) {
    case 'text':
      return context.contextInfo
        ? { extendedTextMessage: { text: need('text'), ...context } }
        : { conversation: need('text') };
    case 'image':
    case 'video':
    case 'audio':
    case 'document': {
      const size = input['size'];
      const sha = str('sha256');
      const media = {
        mimetype: need('mimetype'),
        ...(typeof size === 'number' ? { fileLength: size } : {}),
        ...(sha ? { fileSha256: Buffer.from(sha, 'hex') } : {}),
        ...(str('caption') !== undefined ? { caption: str('caption') } : {}),
        ...(str('filename') !== undefined ? { fileName: str('filename') } : {}),
        mediaKey: Buffer.alloc(32, 7),
        directPath: `/v/t62.7118-24/sim-${Date.now()}`,
        ...context,
      };
      return { [`${input['type']}Message`]: media };
    }
    case 'location': {
      const lat = input['latitude'];
      const lng = input['longitude'];
      if (typeof lat !== 'number' || typeof lng !== 'number')
        throw invalid('latitude', 'latitude and longitude must be numbers');
      return {
        locationMessage: {
          degreesLatitude: lat,
          degreesLongitude: lng,
          ...(str('name') ? { name: str('name') } : {}),
          ...(str('address') ? { address: str('address') } : {}),
        },
      };
    }
    case 'contact':
      return { contactMessage: { displayName: need('displayName'), vcard: need('vcard') } };
    case 'reaction':
      return {
        reactionMessage: {
          // The reacted-to message was the companion's: not the phone's own.
          key: { id: need('messageId'), fromMe: false },
          text: need('emoji'),
          senderTimestampMs: Date.now(),
        },
      };
    default:
      throw invalid(
        'type',
        'one of text, image, video, audio, document, location, contact, reaction',
      );
  }
}

function invalid(field: string, why: string): SimError {
  return new SimError('validation_error', `invalid content: ${field}`, {
    fields: { [`content.${field}`]: why },
  });
}
