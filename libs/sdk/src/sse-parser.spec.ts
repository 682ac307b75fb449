import { describe, expect, it } from '@jest/globals';
import { type SseMessage, SseParser } from './sse-parser.js';

const parse = (chunks: string[]): { messages: SseMessage[]; retries: number[] } => {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const parser = new SseParser(
    (m) => messages.push(m),
    (ms) => retries.push(ms),
  );
  for (const chunk of chunks) parser.push(chunk);
  return { messages, retries };
};

describe('SseParser', () => {
  it('reads what the API frames: retry, ids with data, named notices, comments', () => {
    const { messages, retries } = parse([
      'retry: 1000\n\n',
      'id: 7\ndata: {"type":"auth.qr"}\n\n',
      ': keep-alive\n\n',
      'event: resync\nid: 9\ndata: {"reason":"position_expired"}\n\n',
      'event: disconnect\ndata: {"reason":"shutdown"}\n\n',
    ]);
    expect(retries).toEqual([1000]);
    expect(messages).toEqual([
      { event: 'message', data: '{"type":"auth.qr"}', lastEventId: '7' },
      { event: 'resync', data: '{"reason":"position_expired"}', lastEventId: '9' },
      // a message without its own id keeps the last one seen
      { event: 'disconnect', data: '{"reason":"shutdown"}', lastEventId: '9' },
    ]);
  });

  it('is indifferent to how the bytes are cut, and to CR, LF and CRLF line ends', () => {
    const stream = 'id: 1\r\ndata: a\r\ndata: b\r\n\r\nid: 2\rdata: c\r\rid: 3\ndata: d\n\n';
    const whole = parse([stream]).messages;
    expect(whole.map((m) => [m.lastEventId, m.data])).toEqual([
      ['1', 'a\nb'],
      ['2', 'c'],
      ['3', 'd'],
    ]);
    for (let size = 1; size < 6; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      expect(parse(chunks).messages).toEqual(whole);
    }
  });

  it('dispatches nothing for a block without data, and nothing before its blank line', () => {
    const { messages } = parse(['id: 4\n\n', 'data: half']);
    expect(messages).toEqual([]);
  });
});
