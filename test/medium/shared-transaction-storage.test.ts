import { describe, expect, it } from '@jest/globals';
import { runToCompletion } from '../support/processes.js';

const probe = (mode: 'plain' | 'shared') =>
  runToCompletion('test/support/probes/transaction-storages.mjs', {}, [mode, '20']).then(
    (out) =>
      JSON.parse(out.trim().split('\n').at(-1)!) as {
        storages: number;
        isolated: boolean;
        committed: boolean;
      },
  );

/**
 * Baileys gives every socket an AsyncLocalStorage for its key-store transactions and never
 * disables it; before Node 24 every enabled one costs a write on every promise the process
 * creates, for ever (WhiskeySockets/Baileys#2806). The gateway makes its sockets share one, and
 * wa-sim its simulated phones (each has Baileys' Signal repository).
 */
describe('key-store transactions of many sockets, in a real Node process', () => {
  it('Baileys alone leaves one storage per socket ever made; the gateway leaves one in all', async () => {
    const [plain, shared] = [await probe('plain'), await probe('shared')];
    expect(plain).toEqual({ storages: 20, isolated: true, committed: true });
    expect(shared).toEqual({ storages: 1, isolated: true, committed: true });
  });

  it("the sim's phones and the tests' companions share one as well", async () => {
    const out = await runToCompletion('test/support/probes/sim-phone-storages.mjs', {}, ['20']);
    // Each of the 20 phones and 20 companions would leave its own (40) with Baileys alone.
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ storages: 1, delivered: 20 });
  });
});
