import { NotAcceptableException } from '@nestjs/common';
import Negotiator from 'negotiator';

/** What `GET /qr` can answer with, in the order it prefers them. */
const QR_TYPES = ['application/json', 'image/png'] as const;
export type QrMediaType = (typeof QR_TYPES)[number];

/**
 * The QR representation the client accepts best, by the Accept header's own rules (quality
 * values, `q=0` refuses, wildcards): no header or `*\/*` → JSON. 406 when it accepts neither.
 */
export function negotiateQrType(accept: string | undefined): QrMediaType {
  const best = new Negotiator({ headers: { accept: accept ?? '*/*' } }).mediaType([...QR_TYPES]);
  if (!best) {
    throw new NotAcceptableException(
      `none of the accepted types is available: ${QR_TYPES.join(', ')}`,
    );
  }
  return best as QrMediaType;
}
