import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { guardConsole } from './console-guard.js';

describe('guardConsole', () => {
  const saved = { ...console };
  afterEach(() => {
    Object.assign(console, saved);
  });

  it("keeps a library's words and drops the objects it prints (libsignal's session records)", () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    guardConsole(logger);
    const privKey = Buffer.from('do-not-log-this-private-key');
    console.info('Closing session:', { currentRatchet: { ephemeralKeyPair: { privKey } } });
    console.warn('Session already closed', { privKey: privKey.toString('base64') });
    const text = lines.join('\n');
    expect(text).toContain('"msg":"Closing session:"');
    expect(text).toContain('"msg":"Session already closed"');
    expect(text).not.toContain('do-not-log-this');
    expect(text).not.toContain(privKey.toString('base64'));
  });
});
