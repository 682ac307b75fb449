import { AsyncLocalStorage } from 'node:async_hooks';

/** The NATS header that carries an HTTP request's correlation id along with a command. */
export const REQUEST_ID_HEADER = 'Wagw-Request-Id';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` with `requestId` as the correlation id of everything it does: a command it sends
 * carries it (header `Wagw-Request-Id`), and the gateway that handles the command logs it.
 * An id that is not a short token of letters, digits, `.`, `_`, `-` is ignored.
 */
export function withRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return requestId !== undefined && SAFE_REQUEST_ID.test(requestId)
    ? storage.run({ requestId }, fn)
    : fn();
}

/** The correlation id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
