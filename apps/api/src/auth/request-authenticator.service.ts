import { Inject, Injectable } from '@nestjs/common';
import { type Principal, unauthorized } from '@wagw/domain';
import { ApiKeyAuthenticator } from '../api-keys/api-key-authenticator.service.js';
import { isApiKeyToken } from '../api-keys/api-key-secret.js';
import { JwtVerifier } from './jwt-verifier.service.js';

const BEARER = /^Bearer ([^\s]+)$/i;

/** `Authorization: Bearer <token>` → the principal: an API key or a login JWT (401 otherwise). */
@Injectable()
export class RequestAuthenticator {
  constructor(
    @Inject(JwtVerifier) private readonly jwt: JwtVerifier,
    @Inject(ApiKeyAuthenticator) private readonly apiKeys: ApiKeyAuthenticator,
  ) {}

  async authenticate(header: string | undefined): Promise<Principal> {
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) throw unauthorized('missing bearer token');
    return isApiKeyToken(token) ? this.apiKeys.authenticate(token) : this.jwt.verify(token);
  }
}
