import '../support/esm-require-shim.js';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { renderSdkTypes, SDK_TYPES_FILE } from '../../scripts/sdk-types.mjs';
import { type InProcessApi, startInProcessApi } from '../support/in-process-api.js';

/**
 * The SDK (`@wagw/sdk`) is typed from the OpenAPI document the API serves. Its generated types
 * are committed; this fails when they no longer match the document (a route, a field, a status
 * changed without `npm run sdk:generate`).
 */
describe('the SDK types', () => {
  let api: InProcessApi;
  beforeAll(async () => {
    api = await startInProcessApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('are what openapi-typescript renders from the served /api/docs-json (else: npm run sdk:generate)', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/api/docs-json' });
    expect(response.statusCode).toBe(200);
    const expected = await renderSdkTypes(response.json());
    const committed = await readFile(SDK_TYPES_FILE, 'utf8');
    expect(committed).toBe(expected);
  });
});
