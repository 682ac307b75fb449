import '../support/esm-require-shim.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiKeyCache } from '../../apps/api/src/api-keys/api-key-cache.js';
import { type InProcessApi, startInProcessApi } from '../support/in-process-api.js';
import { waitFor } from '../support/processes.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * The API caches API keys only while it can hear revocations. A listener connection that dies
 * silently (no FIN, no RST: a half-open connection) must turn the cache off, not leave revoked
 * keys accepted for their whole cache lifetime.
 */
describe('API key revocation listener', () => {
  let proxy: TcpProxy;
  let api: InProcessApi;

  beforeAll(async () => {
    const direct = new URL(process.env.WAGW_MEDIUM_DATABASE_URL!);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    api = await startInProcessApi({ API_KEY_LISTENER_CHECK_MS: '300' }, viaProxy.toString());
  });

  afterAll(async () => {
    proxy?.thaw();
    await api?.close();
    await proxy?.close();
  });

  it('turns the key cache off when its connection stops answering, and back on after', async () => {
    const cache = api.app.get(ApiKeyCache);
    await waitFor('cache on', () => Promise.resolve(cache.enabled), 10_000, 50);
    proxy.freeze();
    await waitFor('cache off', () => Promise.resolve(!cache.enabled), 10_000, 50);
    proxy.thaw();
    await waitFor('cache on again', () => Promise.resolve(cache.enabled), 20_000, 50);
    expect(cache.enabled).toBe(true);
  });
});
