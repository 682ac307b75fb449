import type { Capability } from './capabilities.js';

/** Who is calling: resolved once per request by the auth guard. */
export interface Principal {
  kind: 'jwt' | 'api_key';
  organizationId: string;
  /** JWT `sub`, or `apikey:<keyId>`: the value stored as `createdByUserId`. */
  actorId: string;
  capabilities: ReadonlySet<Capability>;
  apiKeyId: string | null;
}
