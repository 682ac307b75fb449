import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Capability, forbidden, type Principal, unauthorized } from '@wagw/domain';
import type { FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator } from '../api-keys/api-key-authenticator.service.js';
import { isApiKeyToken } from '../api-keys/api-key-secret.js';
import { LOGIN_ONLY, PUBLIC_ROUTE, REQUIRED_CAPABILITIES } from './auth.decorators.js';
import { JwtVerifier } from './jwt-verifier.service.js';

const BEARER = /^Bearer ([^\s]+)$/i;

/** Global guard: authenticate (401), then check capabilities (403), before any validation. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(JwtVerifier) private readonly jwt: JwtVerifier,
    @Inject(ApiKeyAuthenticator) private readonly apiKeys: ApiKeyAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = await this.authenticate(request.headers.authorization);
    request.principal = principal;

    if (
      this.reflector.getAllAndOverride<boolean>(LOGIN_ONLY, targets) &&
      principal.kind !== 'jwt'
    ) {
      throw forbidden('this operation needs a login token, not an API key');
    }
    const required =
      this.reflector.getAllAndOverride<Capability[]>(REQUIRED_CAPABILITIES, targets) ?? [];
    if (required.length > 0 && !required.some((c) => principal.capabilities.has(c))) {
      throw forbidden(`missing capability: ${required.join(' or ')}`);
    }
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Principal> {
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) throw unauthorized('missing bearer token');
    return isApiKeyToken(token) ? this.apiKeys.authenticate(token) : this.jwt.verify(token);
  }
}
