// Run by test/medium/shared-transaction-storage.test.ts in a plain Node process (a test
// runner's module registry does not follow Node's live bindings of builtin modules).
// Makes PHONES simulated phones as the built wa-sim does, each exchanging one message with a
// companion (Baileys' Signal repository, as the tests' companions hold it), and prints how
// many AsyncLocalStorages Node stamps on a promise created afterwards.
import { BaileysCompanionFixture } from '../../../libs/wa-sim/dist/web/messaging/baileys-companion.fixture.js';
import { SimPhone } from '../../../libs/wa-sim/dist/web/messaging/sim-phone.model.js';

const count = Number(process.argv[2] ?? 20);
let delivered = 0;
for (let i = 0; i < count; i++) {
  const phoneJid = `1000000000${String(i).padStart(5, '0')}@lid`;
  const phone = new SimPhone(`62811${String(i).padStart(8, '0')}`, phoneJid);
  const companion = new BaileysCompanionFixture(1);
  await companion.startSession(phoneJid, phone.preKeyBundle());
  const sent = await companion.encrypt(phoneJid, { conversation: `hello ${i}` });
  const got = await phone.decrypt(`1000000001${String(i).padStart(5, '0')}:7@lid`, sent);
  if (got.conversation === `hello ${i}`) delivered += 1;
}
const storages = Object.getOwnPropertySymbols(Promise.resolve()).filter(
  (s) => s.description === 'kResourceStore',
).length;
console.log(JSON.stringify({ storages, delivered }));
process.exit(0);
