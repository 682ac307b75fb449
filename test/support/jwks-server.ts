import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export const TEST_ISSUER = 'https://id.test.example';
export const TEST_AUDIENCE = 'wa-gateway';

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: KeyLike;
  publicJwk: JWK;
}

export async function newSigningKey(
  kid: string,
  alg: SigningKey['alg'] = 'RS256',
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/** A real JWKS endpoint over HTTP, as an identity provider serves it; keys can rotate. */
export class JwksServer {
  private server: Server | null = null;
  keys: SigningKey[] = [];
  requests = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests++;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

export interface TokenOptions {
  key: SigningKey;
  claims?: JWTPayload;
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
  notBefore?: string | number;
  header?: Record<string, unknown>;
}

export function signToken(options: TokenOptions): Promise<string> {
  const jwt = new SignJWT({
    org_id: 'org_test',
    role: 'owner',
    sub: 'user_test',
    ...options.claims,
  })
    .setProtectedHeader({ alg: options.key.alg, kid: options.key.kid, ...options.header })
    .setIssuedAt()
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setExpirationTime(options.expiresIn ?? '10m');
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(options.key.privateKey);
}
