import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Capability, Principal } from '@wagw/domain';
import type { FastifyRequest } from 'fastify';

export const PUBLIC_ROUTE = 'auth:public';
export const REQUIRED_CAPABILITIES = 'auth:capabilities';
export const LOGIN_ONLY = 'auth:login-only';

/** No credentials needed (probes, metrics, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** The caller needs any one of these capabilities (403 otherwise). */
export const RequireCapability = (
  ...capabilities: Capability[]
): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_CAPABILITIES, capabilities);

/** Only a person's login JWT may call this (API keys get 403): e.g. minting API keys. */
export const LoginOnly = (): MethodDecorator & ClassDecorator => SetMetadata(LOGIN_ONLY, true);

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<FastifyRequest>().principal;
    // The guard runs first on every non-public route; reaching here without one is a wiring bug.
    if (!principal) throw new Error('no principal on an authenticated route');
    return principal;
  },
);

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
