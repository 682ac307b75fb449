import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { selfSignedCert } from './self-signed.cert.js';

const get = (port: number, agent?: https.Agent): Promise<string> =>
  new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/', ...(agent ? { agent } : {}) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });

describe('selfSignedCert', () => {
  it('is a valid self-signed certificate for its names and IPs', () => {
    const { cert } = selfSignedCert(['127.0.0.1', 'localhost', 'wa-sim', '::1']);
    const x = new X509Certificate(cert);
    expect(x.subjectAltName).toBe(
      'IP Address:127.0.0.1, DNS:localhost, DNS:wa-sim, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkHost('wa-sim')).toBe('wa-sim');
  });

  it('serves TLS that a client trusting only it accepts, and a default client refuses', async () => {
    const { cert, key } = selfSignedCert(['127.0.0.1']);
    const server = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await get(port, new https.Agent({ ca: cert }))).toBe('ok');
      await expect(get(port, new https.Agent())).rejects.toThrow(/self[- ]signed/i);
    } finally {
      server.close();
    }
  });
});
