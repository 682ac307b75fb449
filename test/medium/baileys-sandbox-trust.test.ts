import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sandboxEndpoints, sandboxTrust } from '@wagw/whatsapp-baileys';
import { Curve, WA_CERT_DETAILS } from '@whiskeysockets/baileys';

describe('sandbox endpoints', () => {
  it('derive the WhatsApp Web socket and the root key from the base URL, whatever its path', () => {
    for (const base of ['http://sim:8090', 'ws://sim:8090/ws', 'http://sim:8090/sim/v1']) {
      expect(sandboxEndpoints(base)).toEqual({
        webSocketUrl: 'ws://sim:8090/ws/chat',
        rootKeyUrl: 'http://sim:8090/sim/v1/root-key',
        mediaHostUrl: 'http://sim:8090/sim/v1/media-host',
      });
    }
    expect(sandboxEndpoints('https://sandbox.example:443/')).toEqual({
      webSocketUrl: 'wss://sandbox.example/ws/chat',
      rootKeyUrl: 'https://sandbox.example/sim/v1/root-key',
      mediaHostUrl: 'https://sandbox.example/sim/v1/media-host',
    });
    expect(() => sandboxEndpoints('ftp://sim')).toThrow(/http\(s\) or ws\(s\)/);
  });
});

describe('sandbox trust', () => {
  const original = WA_CERT_DETAILS.PUBLIC_KEY;
  const rootKey = Buffer.from(Curve.generateKeyPair().public).subarray(-32);
  let server: Server;
  let up = false;
  let requests = 0;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests += 1;
      if (!up || req.url !== '/sim/v1/root-key') return res.writeHead(503).end();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ publicKey: rootKey.toString('base64') }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    WA_CERT_DETAILS.PUBLIC_KEY = original;
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails with the URL to check while the sim is down, then trusts its key once it is up', async () => {
    const trust = sandboxTrust(sandboxEndpoints(base).rootKeyUrl);
    await expect(trust()).rejects.toThrow(
      `cannot reach the sandbox's root key at ${base}/sim/v1/root-key: HTTP 503; check WA_SIM_URL`,
    );
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY).equals(rootKey)).toBe(false);

    up = true;
    await trust();
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY).equals(rootKey)).toBe(true);
    // Fetched once: the next connects reuse it.
    const before = requests;
    await Promise.all([trust(), trust(), trust()]);
    expect(requests).toBe(before);
  });
});
