import { describe, expect, it } from '@jest/globals';
import { capabilitiesForRole, isCapability } from './capabilities.js';

describe('capabilitiesForRole', () => {
  it.each([
    ['owner', ['manage', 'send']],
    ['admin', ['manage', 'send']],
    ['member', ['send']],
    ['guest', []],
    [undefined, []],
    [42, []],
  ])('maps role %p to %p', (role, caps) => {
    expect(capabilitiesForRole(role)).toEqual(caps);
  });

  it('recognises only known capabilities', () => {
    expect(isCapability('manage')).toBe(true);
    expect(isCapability('root')).toBe(false);
    expect(isCapability(['manage'])).toBe(false);
  });
});
