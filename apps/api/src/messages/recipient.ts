import { validationError } from '@wagw/domain';

const JID = /^[0-9A-Za-z._:-]{1,128}@(s\.whatsapp\.net|c\.us|g\.us|lid|newsletter|broadcast)$/;

/**
 * `to` as the contract takes it, normalised to a JID: phone digits with their country code
 * (an optional `+`, spaces, dashes and dots ignored) → `<digits>@s.whatsapp.net`; a JID is
 * kept, `@c.us` (the old user domain) becomes `@s.whatsapp.net`. Anything else is a 400 that
 * names `field`.
 */
export function normaliseJid(value: string, field: string): string {
  const trimmed = value.trim();
  const digits = /^\+?[\d\s.-]+$/.test(trimmed) ? trimmed.replace(/[^\d]/g, '') : null;
  if (digits !== null) {
    if (digits.length < 6 || digits.length > 15)
      throw invalid(field, 'a phone number has 6-15 digits, country code first');
    return `${digits}@s.whatsapp.net`;
  }
  if (!JID.test(trimmed)) throw invalid(field, 'must be phone digits or a JID');
  return trimmed.replace(/@c\.us$/, '@s.whatsapp.net');
}

const invalid = (field: string, reason: string) =>
  validationError(`${field} ${reason}`, { fields: { [field]: [reason] } });
