import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Capability, forbidden } from '@wagw/domain';
import type { FastifyRequest } from 'fastify';
import { LOGIN_ONLY, PUBLIC_ROUTE, REQUIRED_CAPABILITIES } from './auth.decorators.js';
import { RequestAuthenticator } from './request-authenticator.service.js';

/**
 * Global guard: authenticate (401), then check capabilities (403), before any validation. API
 * routes are normally authenticated earlier, by the `onRequest` hook (`authenticateEarly`),
 * before their body is read; the guard then only checks what the principal may do.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(RequestAuthenticator) private readonly authenticator: RequestAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal =
      request.principal ?? (await this.authenticator.authenticate(request.headers.authorization));
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
}
