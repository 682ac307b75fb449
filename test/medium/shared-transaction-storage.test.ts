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
 * creates, for ever (WhiskeySockets/Baileys#2806). The gateway makes its sockets share one.
 */
describe('key-store transactions of many sockets, in a real Node process', () => {
  it('Baileys alone leaves one storage per socket ever made; the gateway leaves one in all', async () => {
    const [plain, shared] = [await probe('plain'), await probe('shared')];
    expect(plain).toEqual({ storages: 20, isolated: true, committed: true });
    expect(shared).toEqual({ storages: 1, isolated: true, committed: true });
  });
});
