import { createHmac, timingSafeEqual } from 'node:crypto';
import { validationError } from '@wagw/domain';

const invalidCursor = () =>
  validationError('invalid cursor', { fields: { cursor: ['cursor is not valid'] } });

/**
 * Opaque pagination cursors that cannot be forged: the position, base64url JSON, followed by
 * an HMAC-SHA256 over it and the list it belongs to (`scope`: session, chat, kind), under a
 * key every API replica shares. A cursor altered in any way, or replayed on another list, is
 * `400 validation_error`.
 */
export class CursorCodec {
  constructor(private readonly key: Buffer) {}

  encode(scope: string, position: unknown): string {
    const body = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${body}.${this.sign(scope, body).toString('base64url')}`;
  }

  /** The position, checked by `read` (which throws on a shape it does not expect). */
  decode<T>(scope: string, cursor: string, read: (value: unknown) => T): T {
    const [body, signature, ...rest] = cursor.split('.');
    if (body === undefined || signature === undefined || rest.length > 0) throw invalidCursor();
    const given = Buffer.from(signature, 'base64url');
    const expected = this.sign(scope, body);
    if (
      given.length !== expected.length ||
      given.toString('base64url') !== signature ||
      !timingSafeEqual(given, expected)
    )
      throw invalidCursor();
    try {
      return read(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      throw invalidCursor();
    }
  }

  private sign(scope: string, body: string): Buffer {
    return createHmac('sha256', this.key).update(scope).update('\u0000').update(body).digest();
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** A message page's position: (timestamp, rowId). */
export function readMessagePosition(v: unknown): { timestamp: number; rowId: number } {
  const o = v as { t?: unknown; r?: unknown } | null;
  if (!o || !isInt(o.t) || !isInt(o.r)) throw new Error('bad position');
  return { timestamp: o.t, rowId: o.r };
}

/** A chat page's position: (last timestamp, jid). */
export function readChatPosition(v: unknown): { timestamp: number; jid: string } {
  const o = v as { t?: unknown; j?: unknown } | null;
  if (!o || !isInt(o.t) || typeof o.j !== 'string') throw new Error('bad position');
  return { timestamp: o.t, jid: o.j };
}
