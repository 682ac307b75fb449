import { describe, expect, it } from '@jest/globals';
import { isId, newId } from './ids.js';

describe('ids', () => {
  it('makes sortable, valid ULIDs', () => {
    const ids = Array.from({ length: 100 }, () => newId());
    expect(ids.every(isId)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(100);
  });

  it('rejects non-ULIDs', () => {
    expect(isId('not-a-ulid')).toBe(false);
    expect(isId('01J9ZX8K2QHV0M3T6R7P4N5W8U')).toBe(false); // U is not Crockford base32
    expect(isId('01J9ZX8K2QHV0M3T6R7P4N5W8')).toBe(false);
  });
});
