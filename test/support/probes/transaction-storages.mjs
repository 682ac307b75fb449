// Run by test/medium/shared-transaction-storage.test.ts in a plain Node process (a test
// runner's module registry does not follow Node's live bindings of builtin modules).
// Makes SOCKETS Baileys sockets (`shared`: through withSharedTransactionStorage, as the gateway
// does; `plain`: as Baileys alone does), runs one key-store transaction on each, ends them, and
// prints how many AsyncLocalStorages Node stamps on a promise created afterwards.
import { initAuthCreds, makeWASocket } from '@whiskeysockets/baileys';
import { withSharedTransactionStorage } from '@wagw/shared-transaction-storage';
import { pino } from 'pino';

const [mode, count] = [process.argv[2], Number(process.argv[3] ?? 20)];
const logger = pino({ level: 'silent' });
const memoryKeys = () => {
  const m = new Map();
  return {
    get: async (type, ids) =>
      Object.fromEntries(
        ids.filter((id) => m.has(`${type}.${id}`)).map((id) => [id, m.get(`${type}.${id}`)]),
      ),
    set: async (data) => {
      for (const type in data) for (const id in data[type]) m.set(`${type}.${id}`, data[type][id]);
    },
  };
};
const sockets = [];
for (let i = 0; i < count; i++) {
  const make = () =>
    makeWASocket({
      auth: { creds: initAuthCreds(), keys: memoryKeys() },
      logger,
      waWebSocketUrl: 'ws://127.0.0.1:9/ws', // nothing listens: the socket just closes
      printQRInTerminal: false,
      markOnlineOnConnect: false,
    });
  sockets.push(mode === 'shared' ? withSharedTransactionStorage(make) : make());
}
const seen = await Promise.all(
  sockets.map((sock, i) =>
    sock.authState.keys.transaction(async () => {
      await sock.authState.keys.set({ session: { [`peer${i}`]: Buffer.from([i]) } });
      const others = sockets.filter((s) => s !== sock && s.authState.keys.isInTransaction());
      const own = await sock.authState.keys.get('session', [`peer${i}`]);
      return { others: others.length, own: own[`peer${i}`]?.[0] === i };
    }, `tx${i}`),
  ),
);
for (const sock of sockets) sock.end(undefined);
const committed = await Promise.all(
  sockets.map(
    async (sock, i) =>
      (await sock.authState.keys.get('session', [`peer${i}`]))[`peer${i}`]?.[0] === i,
  ),
);
const storages = Object.getOwnPropertySymbols(Promise.resolve()).filter(
  (s) => s.description === 'kResourceStore',
).length;
console.log(
  JSON.stringify({
    storages,
    isolated: seen.every((s) => s.others === 0 && s.own),
    committed: committed.every(Boolean),
  }),
);
process.exit(0);
