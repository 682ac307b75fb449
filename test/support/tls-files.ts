import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A throwaway CA, a server certificate for `localhost` (and 127.0.0.1) and a client certificate (for mutual
 * TLS), made with the system's openssl in `dir`. Paths of the PEM files.
 */
export function makeTlsFiles(dir: string): TlsFiles {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ecKey,
    '-days',
    '1',
    '-subj',
    '/CN=wagw-test-ca',
    '-keyout',
    path('ca-key.pem'),
    '-out',
    path('ca.pem'),
  );
  const issue = (name: string, subject: string, extensions: string) => {
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(
      'req',
      ...ecKey,
      '-subj',
      subject,
      '-keyout',
      path(`${name}-key.pem`),
      '-out',
      path(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca-key.pem'),
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      path(`${name}.pem`),
      '-extfile',
      path(`${name}.ext`),
    );
  };
  issue(
    'server',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  issue('client', '/CN=wagw-test-client', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server-key.pem'),
    clientCert: path('client.pem'),
    clientKey: path('client-key.pem'),
  };
}
