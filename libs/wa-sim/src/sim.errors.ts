export type SimErrorCode =
  'validation_error' | 'not_found' | 'failed_precondition' | 'payload_too_large' | 'internal';

const HTTP_STATUS: Record<SimErrorCode, number> = {
  validation_error: 400,
  not_found: 404,
  failed_precondition: 409,
  payload_too_large: 413,
  internal: 500,
};

/** A control-API failure with the code of the gateway's error envelope. */
export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SimError';
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }

  toEnvelope(): {
    error: { code: SimErrorCode; message: string; details: Record<string, unknown> };
  } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}
