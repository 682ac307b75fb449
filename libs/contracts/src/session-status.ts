/** Mirrors `@wagw/domain`'s statuses: contracts depend on nothing, so the wire keeps its own copy. */
export type SessionStatus = 'stopped' | 'starting' | 'scan_qr_code' | 'working' | 'failed';
