import { ApiError } from '@wagw/sdk';

/**
 * The simulated phone, through the API's sandbox (`/sandbox/v1/*`, forwarded to the simulator's
 * control API when `npm run start:sandbox` runs it). Same credential as the API.
 */
async function post(token: string, action: string, body: object): Promise<unknown> {
  const response = await fetch(`./sandbox/v1/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'unknown',
      error?.message ?? `HTTP ${response.status}`,
    );
  }
  return json;
}

export const scanQr = (token: string, qr: string, phoneNumber: string): Promise<unknown> =>
  post(token, 'qr:scan', { qr, phoneNumber });

export const enterPairingCode = (
  token: string,
  code: string,
  phoneNumber: string,
): Promise<unknown> => post(token, 'pairing-codes:enter', { code, phoneNumber });

export const sendFromContact = (
  token: string,
  from: string,
  to: string,
  text: string,
): Promise<unknown> => post(token, 'messages', { from, to, text });
