import { ApiError, createGatewayClient, type GatewayClient, unwrap } from '@wagw/sdk';

/** The credential lives in this tab only (sessionStorage): closing the tab signs out. */
const STORAGE_KEY = 'wagw.console.token';

export interface Connection {
  token: string;
  api: GatewayClient;
  /** A platform-admin credential (the gateways page). */
  admin: boolean;
  /** `npm run start:sandbox` (the simulated network in the API process): the phone panel. */
  sandbox: boolean;
}

export const storedToken = (): string | null => sessionStorage.getItem(STORAGE_KEY);

export const forgetToken = (): void => sessionStorage.removeItem(STORAGE_KEY);

/**
 * Checks the credential (it must be able to manage sessions), finds out what else it may do,
 * and keeps it for the tab.
 */
export async function connect(token: string): Promise<Connection> {
  const api = createGatewayClient({ baseUrl: '', token });
  // One round trip: the three questions at once.
  const [sessions, gateways, sandbox] = await Promise.all([
    unwrap(api.GET('/api/v1/sessions')).then(
      () => null,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    ),
    api.GET('/api/v1/gateways').then(({ response }) => response.ok),
    fetch('./sandbox/v1/status').then(
      (response) => response.ok,
      () => false,
    ),
  ]);
  if (sessions instanceof ApiError && sessions.status === 403)
    throw new ApiError(
      403,
      'forbidden',
      'This credential cannot manage sessions (capability manage).',
    );
  if (sessions instanceof ApiError && sessions.status === 401)
    throw new ApiError(401, 'unauthorized', 'Unknown, revoked or expired credential.');
  if (sessions) throw sessions;
  sessionStorage.setItem(STORAGE_KEY, token);
  return { token, api, admin: gateways, sandbox };
}

/** A human sentence for any failure of an API call. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.status} ${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
