export const SESSION_STATUSES = [
  'stopped',
  'starting',
  'scan_qr_code',
  'working',
  'failed',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** What the organization wants: the gateway fleet converges on it. */
export const DESIRED_STATES = ['running', 'stopped'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

export const SESSION_DEFAULTS = {
  ratePerMin: 20,
  ratePerHour: 600,
  autoRead: false,
  presenceTyping: false,
} as const;
