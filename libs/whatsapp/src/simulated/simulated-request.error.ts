/** The simulated network refused a request, or it got no answer in time. */
export class SimulatedRequestError extends Error {
  constructor(
    /** A wa-sim request error code (`bad_request`, `not_open`, ...), or `timeout` / `closed`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatedRequestError';
  }
}
