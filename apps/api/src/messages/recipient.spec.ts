import { describe, expect, it } from '@jest/globals';
import { normaliseJid } from './recipient.js';

describe('normaliseJid', () => {
  it('turns phone digits into a user JID', () => {
    expect(normaliseJid('6281234567890', 'to')).toBe('6281234567890@s.whatsapp.net');
    expect(normaliseJid('+62 812-3456-7890', 'to')).toBe('6281234567890@s.whatsapp.net');
  });

  it('keeps JIDs and maps the old c.us domain', () => {
    expect(normaliseJid('120363000000000777@newsletter', 'to')).toBe(
      '120363000000000777@newsletter',
    );
    expect(normaliseJid('123456789-1600000000@g.us', 'to')).toBe('123456789-1600000000@g.us');
    expect(normaliseJid('6281234567890@c.us', 'to')).toBe('6281234567890@s.whatsapp.net');
  });

  it('refuses what is neither, naming the field', () => {
    for (const bad of ['12345', '1234567890123456', 'abc', 'x@example.com', '@s.whatsapp.net']) {
      expect(() => normaliseJid(bad, 'to')).toThrow(
        expect.objectContaining({
          code: 'validation_error',
          details: { fields: { to: [expect.any(String)] } },
        }),
      );
    }
  });
});
