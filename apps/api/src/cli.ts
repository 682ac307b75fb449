import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { type Capability, isCapability } from '@wagw/domain';
import {
  AuthStateCipher,
  authStateKeys,
  loadGatewayConfig,
  readEmbeddedAuthStateKey,
  type ReEncryptResult,
  reEncryptAuthState,
} from '@wagw/gateway';
import { type OpenDatabase, openDatabase } from '@wagw/persistence';
import { ApiKeyCache } from './api-keys/api-key-cache.js';
import { ApiKeyResponse } from './api-keys/dto/api-key.response.js';
import { ApiKeysRepository } from './api-keys/api-keys.repository.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { type ApiConfig, loadApiConfig } from './config/api-config.js';

const USAGE = `usage:
  npm run cli -- api-keys create --org <orgId> --name <name> --capabilities manage,send [--admin]
  npm run cli -- api-keys list --org <orgId>
  npm run cli -- api-keys revoke <id>
  npm run cli -- auth-state re-encrypt     (under the first of AUTH_STATE_KEYS, while the fleet runs)`;

class UsageError extends Error {}

/** Operator CLI: works without an identity provider, on the database the product uses. */
async function cli(argv: string[]): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      org: { type: 'string' },
      name: { type: 'string' },
      capabilities: { type: 'string' },
      admin: { type: 'boolean', default: false },
    },
  });
  const [group, command, id] = positionals;
  if ((group !== 'api-keys' && group !== 'auth-state') || !command)
    throw new UsageError('unknown command');
  const config = loadApiConfig();
  if (group === 'auth-state') {
    if (command !== 're-encrypt') throw new UsageError(`unknown command ${command}`);
    return reEncrypt(config);
  }
  const db = await openCliDatabase(config);
  try {
    const repository = new ApiKeysRepository(db.dataSource);
    const service = new ApiKeysService(repository, new ApiKeyCache(0));
    switch (command) {
      case 'create': {
        if (!values.org || !values.name) throw new UsageError('--org and --name are required');
        const capabilities = parseCapabilities(values.capabilities ?? '');
        if (values.admin) capabilities.push('admin');
        return await service.issue({
          organizationId: values.org,
          name: values.name,
          capabilities,
          createdByUserId: 'cli',
        });
      }
      case 'list': {
        if (!values.org) throw new UsageError('--org is required');
        const keys = await repository.listByOrganization(values.org);
        return { items: keys.map((k) => ApiKeyResponse.from(k)) };
      }
      case 'revoke': {
        if (!id) throw new UsageError('the key id is required');
        return await service.revokeIn(null, id);
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    await db.close();
  }
}

/**
 * Keys as the gateways have them (AUTH_STATE_KEYS / AUTH_STATE_KEY), or the embedded setup's
 * generated key; then every row not under the first key is re-encrypted under it.
 */
async function reEncrypt(config: ApiConfig): Promise<ReEncryptResult> {
  const keys =
    authStateKeys(loadGatewayConfig()) ??
    (config.DATABASE_URL
      ? null
      : await readEmbeddedAuthStateKey(config.DATA_DIR).then((k) => (k ? [k] : null)));
  if (!keys) throw new UsageError('no auth-state keys: set AUTH_STATE_KEYS (new key first)');
  const db = await openCliDatabase(config);
  try {
    return await reEncryptAuthState(db.dataSource, new AuthStateCipher(keys));
  } finally {
    await db.close();
  }
}

/** The database the product uses: Postgres, or the running product's embedded one. */
function openCliDatabase(config: ApiConfig): Promise<OpenDatabase> {
  return openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: 2,
    applicationName: 'wagw-cli',
    role: 'client',
  });
}

function parseCapabilities(list: string): Capability[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((c) => !isCapability(c) || c === 'admin');
  if (items.length === 0 || bad.length > 0) {
    throw new UsageError(
      `--capabilities must list manage and/or send${bad.length ? ` (not ${bad.join(', ')})` : ''}`,
    );
  }
  return [...new Set(items)] as Capability[];
}

cli(process.argv.slice(2)).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message}\n${error instanceof UsageError ? USAGE + '\n' : ''}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
