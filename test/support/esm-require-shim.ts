import { jest } from '@jest/globals';
import * as contentDisposition from 'content-disposition';
import * as cookie from 'cookie';

/**
 * Jest's CommonJS loader cannot `require()` an ES module before Node 24.9, though Node 20.19+
 * itself can. Two CommonJS packages on the API's path require ESM-only packages:
 * - `@fastify/static` (loaded by `SwaggerModule.setup` for the docs UI's assets) requires
 *   `content-disposition`; without it the in-process API calls `process.exit(1)` under Jest;
 * - `light-my-request` (Fastify's `inject()`) requires `cookie`.
 * The real modules, loaded as ESM here, are handed to the CJS registry: nothing is faked.
 *
 * Import this first in a Jest test that starts the in-process API.
 */
jest.mock('content-disposition', () => contentDisposition);
jest.mock('cookie', () => cookie);
