import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './generated/api-types.js';

export type Schemas = components['schemas'];
export type Session = Schemas['SessionResponse'];
export type SessionStatus = Session['status'];
export type Gateway = Schemas['GatewayResponse'];
export type Webhook = Schemas['WebhookResponse'];
export type ErrorBody = Schemas['ErrorBody'];

export type GatewayClient = Client<paths>;

export interface GatewayClientOptions {
  /** Where the API is, e.g. `http://localhost:8080` (no `/api/v1`); '' = the page's origin. */
  baseUrl: string;
  /** An API key (`wagw_…`) or a login JWT. */
  token: string;
  /** Another fetch (tests, proxies); defaults to the global one. */
  fetch?: typeof globalThis.fetch;
}

/**
 * A typed client of the REST API (`openapi-fetch` over the types generated from the API's
 * OpenAPI document): paths, path/query parameters, bodies and answers are checked by the compiler.
 *
 * ```ts
 * const api = createGatewayClient({ baseUrl: 'http://localhost:8080', token: process.env.KEY! });
 * const { data, error } = await api.POST('/api/v1/sessions', { body: { label: 'Support', start: true } });
 * ```
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.token}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** An error answer of the API: its status and the contract's `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The `data` of an openapi-fetch result, or an `ApiError` thrown from its error envelope:
 * `const session = await unwrap(api.GET('/api/v1/sessions/{session}', { params }))`.
 */
export async function unwrap<T>(
  result: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await result;
  if (response.ok) return data as T;
  const body = (error as { error?: Partial<ErrorBody> } | undefined)?.error;
  throw new ApiError(
    response.status,
    body?.code ?? 'unknown',
    body?.message ?? `HTTP ${response.status}`,
    body?.details ?? {},
  );
}
