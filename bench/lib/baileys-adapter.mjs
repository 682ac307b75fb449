// The gateway's Baileys adapter against the built wa-sim in its own process, for benchmarks that
// measure the adapter alone (bench:login, bench:session-heap).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaSimControlClient } from '@wagw/wa-sim';
import { BaileysConnectionFactory, trustSandboxRootKey } from '@wagw/whatsapp-baileys';
import { pino } from 'pino';
import { killAllChildren, startSimProcess } from './procs.mjs';

/**
 * A WaConnectionListener that records what the connection reports (QR, open, close) and wakes
 * a waiter on each: `await listener.until(() => listener.seen.opened)`.
 */
export function connectionRecorder() {
  const seen = { qr: null, opened: false, closed: null };
  let wake = () => {};
  const until = async (check) => {
    while (!check()) await new Promise((r) => (wake = r));
  };
  const note = (update) => {
    Object.assign(seen, update);
    wake();
  };
  return {
    seen,
    until,
    onQr: ({ qr }) => note({ qr }),
    onOpen: () => note({ opened: true }),
    onClose: ({ code }) => note({ closed: code }),
    onMessage: async () => {},
    onReceipt: async () => {},
    onChannelMessage: async () => {},
  };
}

/**
 * Starts the sim, trusts its root key, and returns `open` (a connection of the adapter with a
 * recording listener, connecting), `pair` (a scan on the sim, until the pairing socket closed)
 * and `stop` (kills the sim, removes its data).
 */
export async function adapterAgainstSim(clientId) {
  const dataDir = join(tmpdir(), `${clientId}-${randomBytes(4).toString('hex')}`);
  const stop = () => {
    killAllChildren();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const sim = await startSimProcess(dataDir);
    const control = new WaSimControlClient(sim.controlUrl);
    await trustSandboxRootKey((await control.rootKey()).publicKey);
    const factory = new BaileysConnectionFactory({
      logger: pino({ level: 'silent' }),
      waWebSocketUrl: sim.webUrl,
      connectTimeoutMs: 20_000,
    });
    const open = async (sessionId, auth) => {
      const listener = connectionRecorder();
      const connection = factory.create({ sessionId, clientId, auth, listener });
      await connection.connect();
      return { connection, listener };
    };
    const pair = async (sessionId, auth, phoneNumber) => {
      const pairing = await open(sessionId, auth);
      await pairing.listener.until(() => pairing.listener.seen.qr);
      await control.scanQr(pairing.listener.seen.qr, phoneNumber);
      await pairing.listener.until(() => pairing.listener.seen.closed !== null);
    };
    return { sim, control, open, pair, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
