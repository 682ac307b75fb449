import { initAuthCreds } from '@whiskeysockets/baileys';

/** Baileys' auth state in memory: `creds` (fresh by default) and a Map-backed key store. */
export function memoryAuth(creds = initAuthCreds(), data = new Map()) {
  return {
    creds,
    keys: {
      get: async (type, ids) => {
        const out = {};
        for (const id of ids) {
          const v = data.get(`${type}:${id}`);
          if (v !== undefined) out[id] = v;
        }
        return out;
      },
      set: async (set) => {
        for (const [type, values] of Object.entries(set)) {
          for (const [id, v] of Object.entries(values ?? {})) {
            if (v == null) data.delete(`${type}:${id}`);
            else data.set(`${type}:${id}`, v);
          }
        }
      },
    },
  };
}
