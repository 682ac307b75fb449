import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAuthStateKey } from './auth-state.cipher.js';

/** `npm start` keeps its generated auth-state key beside its data, readable by its owner only. */
export const EMBEDDED_AUTH_STATE_KEY_FILE = 'auth-state.key';

/** The embedded setup's key, or null when it has none yet. */
export async function readEmbeddedAuthStateKey(dataDir: string): Promise<Buffer | null> {
  const path = join(dataDir, EMBEDDED_AUTH_STATE_KEY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return parseAuthStateKey(text);
  } catch {
    throw new Error(`${path} does not hold a 32-byte base64 key`);
  }
}

/** The embedded setup's key, generated on first use. */
export async function loadOrCreateEmbeddedAuthStateKey(dataDir: string): Promise<Buffer> {
  const existing = await readEmbeddedAuthStateKey(dataDir);
  if (existing) return existing;
  const key = randomBytes(32);
  const path = join(dataDir, EMBEDDED_AUTH_STATE_KEY_FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path, key.toString('base64'), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return key;
}
