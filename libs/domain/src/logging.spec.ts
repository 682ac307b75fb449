import { describe, expect, it } from '@jest/globals';
import { serializeError } from './logging.js';

describe('serializeError', () => {
  it('drops the bound parameters and quoted values of a failed query, keeps the rest', () => {
    // The shape of TypeORM's QueryFailedError wrapping a pg DatabaseError.
    const driverError = Object.assign(new Error('duplicate key value'), {
      code: '23505',
      detail: 'Key (secret_hash)=(\\xdeadbeef) already exists.',
      parameters: ['wagw_secret', '6281234567890'],
    });
    const failed = Object.assign(new Error('duplicate key value'), {
      name: 'QueryFailedError',
      query: 'INSERT INTO api_keys (secret_hash, label) VALUES ($1, $2)',
      parameters: ['\\xdeadbeef', 'Support line of 6281234567890'],
      driverError,
      code: '23505',
      detail: driverError.detail,
    });
    const serialized = serializeError(failed);
    const text = JSON.stringify(serialized);
    expect(text).not.toContain('6281234567890');
    expect(text).not.toContain('deadbeef');
    expect(text).not.toContain('wagw_secret');
    expect(serialized).toMatchObject({
      type: 'Error',
      message: 'duplicate key value',
      query: 'INSERT INTO api_keys (secret_hash, label) VALUES ($1, $2)',
      code: '23505',
    });
  });
});
