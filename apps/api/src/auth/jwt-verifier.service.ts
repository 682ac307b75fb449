import { Inject, Injectable } from '@nestjs/common';
import { capabilitiesForRole, type Principal, unauthorized, unavailable } from '@wagw/domain';
import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify } from 'jose';
import { ApiConfig } from '../config/api-config.js';

/** Asymmetric algorithms only: `none` and HMAC (e.g. HS256 keyed with the public key) never verify. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** Verifies login JWTs against the identity provider's JWKS (cached; unknown `kid` refetches). */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

@Injectable()
export class JwtVerifier {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private readonly keySet: ReturnType<typeof createRemoteJWKSet> | null;

  constructor(@Inject(ApiConfig) private readonly config: ApiConfig) {
    this.keySet = config.AUTH_JWKS_URL
      ? createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
          timeoutDuration: 5_000,
          cooldownDuration: config.AUTH_JWKS_COOLDOWN_MS,
          cacheMaxAge: 10 * 60_000,
        })
      : null;
  }

  async verify(token: string): Promise<Principal> {
    if (!this.keySet)
      throw unauthorized('login tokens are not accepted: no identity provider configured');
    const cached = this.verified.get(token);
    if (cached && cached.until > Date.now()) return cached.principal;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
        issuer: this.config.AUTH_ISSUER,
        audience: this.config.AUTH_AUDIENCE,
        algorithms: ASYMMETRIC_ALGORITHMS,
        clockTolerance: this.config.AUTH_CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout)
        throw unavailable('identity provider keys unreachable');
      if (error instanceof joseErrors.JOSEError || error instanceof TypeError)
        throw unauthorized('invalid token');
      // A failed JWKS fetch (network, non-200) is ours to report, not the caller's fault.
      throw unavailable('identity provider keys unreachable');
    }
    const organizationId = payload[this.config.AUTH_ORG_CLAIM];
    const subject = payload[this.config.AUTH_SUBJECT_CLAIM];
    if (
      typeof organizationId !== 'string' ||
      organizationId === '' ||
      typeof subject !== 'string' ||
      subject === ''
    ) {
      throw unauthorized('token lacks organization or subject');
    }
    const principal: Principal = {
      kind: 'jwt',
      organizationId,
      actorId: subject,
      capabilities: new Set(capabilitiesForRole(payload[this.config.AUTH_ROLE_CLAIM])),
      apiKeyId: null,
    };
    this.remember(token, principal, payload.exp);
    return principal;
  }

  /**
   * A token that verified is trusted again, byte for byte, until its `exp` and for at most
   * VERIFIED_TTL_MS (so a key withdrawn from the JWKS stops working within that): signature
   * checks were a third of the cost of an authenticated read.
   */
  private remember(token: string, principal: Principal, exp: number | undefined): void {
    if (exp === undefined) return;
    if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
    this.verified.set(token, {
      principal,
      until: Math.min(exp * 1000, Date.now() + VERIFIED_TTL_MS),
    });
  }
}
