// Child process of bench/events.bench.mjs: holds many SSE connections to the API and records,
// for every event received, receive time − publish time (both wall clocks of this machine, with
// sub-millisecond precision: the publisher puts its timestamp in the event's `data.reason`).
//
// A raw HTTP client with a minimal SSE parser, not the `eventsource` package: with 100 clients
// at 1,000 events/s this process parses 100,000 events a second on a shared 2-core machine, and
// the measurement must be the server's latency, not the client's parsing backlog.
//
// Protocol (IPC with the parent): { cmd: 'open', url, token, count } → { opened } once all are
// connected; { cmd: 'reset' } clears samples; { cmd: 'report' } → { latencies, received, bytes,
// ended };
// { cmd: 'close' } → exits.
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

const now = () => performance.timeOrigin + performance.now();
const connections = [];
let latencies = [];
let received = 0;
let bytes = 0;
/** Connections the server ended (a slow client is cut off with `event: disconnect`). */
let ended = 0;
const STAMP = /"reason":"t=([0-9.]+)"/;

function open(url, token) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`SSE status ${res.statusCode}`));
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk) => {
          const at = now();
          bytes += chunk.length;
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!frame.startsWith('id: ')) continue; // retry:, comments, control events (counted at 'end')
            const m = STAMP.exec(frame);
            if (!m) continue;
            received += 1;
            latencies.push(at - Number(m[1]));
          }
        });
        res.on('end', () => (ended += 1));
        connections.push({ req, res });
        resolve();
      },
    );
    req.on('error', reject);
    req.end();
  });
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'open') {
      for (let i = 0; i < msg.count; i += 50)
        await Promise.all(
          Array.from({ length: Math.min(50, msg.count - i) }, () => open(msg.url, msg.token)),
        );
      process.send({ opened: connections.length });
    } else if (msg.cmd === 'reset') {
      latencies = [];
      received = 0;
      bytes = 0;
      process.send({ reset: true });
    } else if (msg.cmd === 'report') {
      process.send({ latencies, received, bytes, ended });
    } else if (msg.cmd === 'close') {
      for (const c of connections) c.req.destroy();
      process.exit(0);
    }
  } catch (error) {
    process.send({ error: String(error?.message ?? error) });
  }
});
