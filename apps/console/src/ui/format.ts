const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export const formatDateTime = (ms: number | null | undefined): string =>
  ms ? DATE_TIME.format(ms) : '—';

export const formatTime = (ms: number): string => TIME.format(ms);

/** "3 min ago" for recent times, the date otherwise. */
export function formatAgo(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return 'never';
  const seconds = Math.round((now - ms) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return formatDateTime(ms);
}

export const STATUS_LABEL: Record<string, string> = {
  stopped: 'stopped',
  starting: 'starting',
  scan_qr_code: 'waiting for pairing',
  working: 'working',
  failed: 'failed',
};
