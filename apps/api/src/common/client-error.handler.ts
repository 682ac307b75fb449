import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { envelope } from './error-status.js';

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request did not arrive in time (REQUEST_TIMEOUT_MS)',
  },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'request headers too large' },
};

/**
 * Errors Node's HTTP layer raises before a request exists (malformed request line, oversized
 * headers, a request that did not arrive in time): no route, hook or filter runs for them, so
 * this writes the contract's envelope and a correlation id itself, then closes the connection.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, message } = CLIENT_ERRORS[error.code ?? ''] ?? {
    status: 400,
    message: 'malformed HTTP request',
  };
  const body = JSON.stringify(envelope('validation_error', message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${randomUUID()}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
