import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DomainError } from '@wagw/domain';
import { RequestAuthenticator } from '../auth/request-authenticator.service.js';

/**
 * Whether the credential a stream was opened with still authenticates: a revoked API key or
 * an expired login must not keep receiving the organization's events on a stream opened before.
 * Uses the very authenticator requests go through (its caches included, so a recheck is cheap).
 */
@Injectable()
export class StreamCredentials {
  private authenticator: RequestAuthenticator | null = null;

  constructor(@Inject(ModuleRef) private readonly modules: ModuleRef) {}

  /** false when the credential no longer authenticates; true when it does, or cannot be told now. */
  async stillValid(authorization: string): Promise<boolean> {
    // It lives in the root module, not this one.
    this.authenticator ??= this.modules.get(RequestAuthenticator, { strict: false });
    const authenticator = this.authenticator;
    if (!authenticator) return true; // not wired (cannot happen in the app): never cut blindly
    try {
      await authenticator.authenticate(authorization);
      return true;
    } catch (error) {
      // Only a definite "no" ends a stream; the database or the JWKS being down does not.
      return !(error instanceof DomainError && error.code === 'unauthorized');
    }
  }
}
