/** Mirrors `@wagw/domain`'s statuses: contracts depend on nothing, so the wire keeps its own copy. */
export const SESSION_STATUSES = [
  'stopped',
  'starting',
  'scan_qr_code',
  'working',
  'failed',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
