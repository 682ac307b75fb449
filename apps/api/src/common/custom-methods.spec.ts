import { describe, expect, it } from '@jest/globals';
import { customMethod, publicPath, rewriteCustomMethods } from './custom-methods.js';

describe('custom methods', () => {
  it('rewrites {id}:verb to the internal route, keeping the query', () => {
    expect(rewriteCustomMethods('/api/v1/sessions/01ABC:start')).toBe(
      '/api/v1/sessions/01ABC/~start',
    );
    expect(rewriteCustomMethods('/api/v1/sessions/01ABC:logout?x=1')).toBe(
      '/api/v1/sessions/01ABC/~logout?x=1',
    );
    expect(rewriteCustomMethods('/api/v1/gateways/gw-sg-1:drain')).toBe(
      '/api/v1/gateways/gw-sg-1/~drain',
    );
    expect(rewriteCustomMethods('/api/v1/webhooks/01ABC:rotate-secret')).toBe(
      '/api/v1/webhooks/01ABC/~rotate-secret',
    );
    expect(rewriteCustomMethods('/api/v1/webhooks/01ABC/deliveries/01DEF:redeliver')).toBe(
      '/api/v1/webhooks/01ABC/deliveries/01DEF/~redeliver',
    );
  });

  it('leaves everything else alone', () => {
    for (const url of [
      '/api/v1/sessions',
      '/api/v1/sessions/01ABC',
      '/api/v1/sessions/01ABC/qr',
      '/healthz',
      '/api/v1/api-keys/x:start',
      '/api/v1/sessions/01ABC/deliveries/01DEF:redeliver',
      '/api/v1/webhooks/01ABC/deliveries:redeliver',
    ]) {
      expect(rewriteCustomMethods(url)).toBe(url);
    }
  });

  it('routes the internal form nowhere when a client sends it', () => {
    expect(rewriteCustomMethods('/api/v1/sessions/01ABC/~start')).toBe('/__unrouted__');
    // The router decodes %7E to ~ before matching: the encoded form is the same internal route.
    expect(rewriteCustomMethods('/api/v1/sessions/01ABC/%7Estop')).toBe('/__unrouted__');
    expect(rewriteCustomMethods('/api/v1/sessions/01ABC/%7estop?x=1')).toBe('/__unrouted__');
  });

  it('names routes and their public paths consistently', () => {
    expect(customMethod('session', 'stop')).toBe(':session/~stop');
    expect(publicPath('/api/v1/sessions/{session}/~stop')).toBe('/api/v1/sessions/{session}:stop');
  });
});
