export * from './commands.js';
export * from './events.js';
export * from './session-status.js';
export * from './subjects.js';
export { InvalidPayloadError } from './wire-validation.js';
export * from './public-events.js';
export * from './messages.js';
