export type { components, operations, paths } from './generated/api-types.js';
export * from './client.js';
export * from './event-stream.js';
export * from './sse-parser.js';
