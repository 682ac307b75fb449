import { createHook } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WaSimControlClient } from '@wagw/wa-sim';
import {
  MemoryAuthStore,
  type WaConnection,
  type WaConnectionListener,
  type WaIdentity,
} from '@wagw/whatsapp';
import { BaileysConnectionFactory, sandboxEndpoints, sandboxTrust } from '@wagw/whatsapp-baileys';
import { pino } from 'pino';
import { type SimProcess, startSimProcess } from '../support/fleet.js';

/**
 * The gateway's Baileys adapter (the real Baileys 7.0.0-rc14) against wa-sim in a process of its
 * own: 200 connect/close cycles of one paired session leave this process's heap and its active
 * handles (sockets, timers) where they were after warm-up. A socket, timer or listener kept per
 * cycle would grow both.
 */

interface Outcome {
  opened?: WaIdentity;
  closed?: { code: number; message: string };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Sockets and other handles alive in this process, by kind (TCPWRAP, PipeWrap, ...). */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo())
    if (kind !== 'Timeout') counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Timers of the code under test, by creation: counted apart from the other handles because the
 * test runner's own timers (its reporter's debounce, this test's timeout) and the HTTP keep-alive
 * of the sim's control client come and go on their own. Each entry: where it was created.
 */
const timers = new Map<number, { cycle: number; site: string }>();
let cycleNo = 0;
const runnerTimer = /jest|undici|baileys-connection-cycles\.test/;
createHook({
  init(id, type) {
    if (type !== 'Timeout') return;
    const site = (new Error().stack ?? '')
      .split('\n')
      .slice(2)
      .filter((l) => !l.includes('node:'));
    // Judged by the frame that called setTimeout: the runner's, or the code under test's.
    if (!runnerTimer.test(site[0] ?? ''))
      timers.set(id, { cycle: cycleNo, site: site.slice(0, 4).join(' <') });
  },
  destroy(id) {
    timers.delete(id);
  },
}).enable();

/** Baileys' prekey upload races a 30 s timeout it never clears: it ends by itself. */
const selfEnding = /uploadPreKeys/;

describe('Baileys adapter: connect/close cycles', () => {
  const PHONE = '6282400000001';
  const CYCLES = 200;
  const WARM_UP = 20;
  let sim: SimProcess;
  let control: WaSimControlClient;
  let factory: BaileysConnectionFactory;
  const auth = new MemoryAuthStore();

  /** One connection; resolves when it opens or closes (whichever comes first). */
  function connect(onQr?: (qr: string) => void): {
    connection: WaConnection;
    outcome: Promise<Outcome>;
    closed: Promise<{ code: number; message: string }>;
  } {
    let settle!: (o: Outcome) => void;
    let closedResolve!: (r: { code: number; message: string }) => void;
    const outcome = new Promise<Outcome>((r) => (settle = r));
    const closed = new Promise<{ code: number; message: string }>((r) => (closedResolve = r));
    const listener: WaConnectionListener = {
      onQr: ({ qr }) => onQr?.(qr),
      onOpen: (identity) => settle({ opened: identity }),
      onClose: (reason) => {
        settle({ closed: reason });
        closedResolve(reason);
      },
      onMessage: () => Promise.resolve(),
      onReceipt: () => Promise.resolve(),
      onChannelMessage: () => Promise.resolve(),
    };
    const connection = factory.create({
      sessionId: 'cycles',
      clientId: 'gw-cycles',
      auth,
      listener,
    });
    void connection.connect();
    return { connection, outcome, closed };
  }

  beforeAll(async () => {
    sim = await startSimProcess();
    control = new WaSimControlClient(sim.controlUrl);
    const endpoints = sandboxEndpoints(sim.controlUrl);
    factory = new BaileysConnectionFactory({
      logger: pino({ level: 'silent' }),
      waWebSocketUrl: endpoints.webSocketUrl,
      prepare: sandboxTrust(endpoints.rootKeyUrl),
    });
    // Pair once: QR → scan → 515.
    const pairing = connect((qr) => void control.scanQr(qr, PHONE));
    expect((await pairing.outcome).closed?.code).toBe(515);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  async function cycle(): Promise<void> {
    cycleNo += 1;
    const c = connect();
    const result = await c.outcome;
    if (!result.opened) throw new Error(`did not open: ${JSON.stringify(result.closed)}`);
    expect(result.opened.phoneNumber).toBe(PHONE);
    await c.connection.close();
    expect((await c.closed).code).toBe(499);
  }

  it(`${CYCLES} cycles leave the heap and the handles where warm-up left them`, async () => {
    for (let i = 0; i < WARM_UP; i++) await cycle();
    await new Promise((r) => setTimeout(r, 500));
    const heapBefore = heapAfterGc();
    const handlesBefore = handles();

    for (let i = WARM_UP; i < CYCLES; i++) await cycle();
    await new Promise((r) => setTimeout(r, 500));
    const heapAfter = heapAfterGc();
    const handlesAfter = handles();

    const growthKb = (heapAfter - heapBefore) / 1024;
    process.stdout.write(
      `heap ${Math.round(heapBefore / 1024)} KB → ${Math.round(heapAfter / 1024)} KB over ${CYCLES - WARM_UP} cycles ` +
        `(${Math.round(growthKb / (CYCLES - WARM_UP))} KB per cycle); handles ${JSON.stringify(handlesBefore)} → ${JSON.stringify(handlesAfter)}\n`,
    );
    // One connection kept alive per cycle (its socket, noise state, buffers) costs far more
    // than 10 KB: 180 of them would be megabytes.
    expect(growthKb).toBeLessThan(10 * (CYCLES - WARM_UP));
    // No kind of handle grew (one left over from pairing or an HTTP keep-alive may have ended).
    for (const [kind, count] of Object.entries(handlesAfter))
      expect({ kind, count }).toEqual({ kind, count: Math.min(count, handlesBefore[kind] ?? 0) });
    // No timer of a closed connection is still armed (a keep-alive, query or watchdog kept per
    // cycle would be listed here with where it was created).
    const leftover = [...timers.values()].filter(
      (t) => t.cycle > WARM_UP && !selfEnding.test(t.site),
    );
    expect(leftover).toEqual([]);
    // And the sim holds no connection of ours.
    expect((await control.device(PHONE)).connected).toBe(false);
  }, 600_000);
});
