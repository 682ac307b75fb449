export * from './capabilities.js';
export * from './errors.js';
export * from './ids.js';
export * from './principal.js';
export * from './session-status.js';
export * from './env-config.js';
export * from './graceful-shutdown.js';
export * from './logging.js';
