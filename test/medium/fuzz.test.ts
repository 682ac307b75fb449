import '../support/esm-require-shim.js';
import { randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { PUBLIC_EVENT_TYPES } from '@wagw/contracts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { InjectOptions, Response as InjectResponse } from 'light-my-request';
import { type InProcessApi, startInProcessApi } from '../support/in-process-api.js';
import {
  JwksServer,
  newSigningKey,
  signToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from '../support/jwks-server.js';
import { type ServedRoute, servedRoutes } from '../support/served-routes.js';

/**
 * Bad input never yields a 5xx, and every error leaves in the contract's envelope.
 *
 * Property-based (fast-check) against the real API in-process on the medium suite's Postgres:
 * random bodies, paths, query strings, headers, methods and credentials. Reproduce a failure with
 * the seed and path fast-check prints: `FUZZ_SEED=<seed> FUZZ_PATH=<path>`; `FUZZ_RUNS` scales runs.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_629);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const REPLAY = process.env.FUZZ_PATH;
const params = (): fc.Parameters<unknown> => ({
  seed: SEED,
  numRuns: RUNS,
  ...(REPLAY ? { path: REPLAY } : {}),
});

/** spec/api-v1.md "Errors": the status of every contract code. */
const STATUS_OF: Record<string, number> = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  failed_precondition: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
};
const BODY_LIMIT = 1024 * 1024; // the default: big enough for pathological nesting
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const LEAK = /SELECT|INSERT INTO|UPDATE \w+ SET|relation "|violates|node_modules|\n\s+at |Error:/;

/**
 * Routes that command a gateway worker. This suite runs no gateway, so the contract's
 * `503 unavailable` ("no gateway could take the command in time") is their right answer to valid
 * input; any other 5xx, and a 503 anywhere else, is a failure.
 */
function commandsGateway(method: string, url: string): boolean {
  const path = (url.split('?', 1)[0] ?? '').replace(/(.)\/$/, '$1');
  const get = method === 'GET' || method === 'HEAD';
  return (
    (method === 'DELETE' && /^\/api\/v1\/sessions\/[^/]+$/.test(path)) ||
    (method === 'POST' && /^\/api\/v1\/(sessions|gateways)\/[^/]+:[a-z-]+$/.test(path)) ||
    (method === 'POST' && /^\/api\/v1\/sessions\/[^/]+\/pairing-code$/.test(path)) ||
    (get && /^\/api\/v1\/sessions\/[^/]+\/qr$/.test(path))
  );
}

/** `POST /sessions/{session}/channels`: the contract's `501 not_implemented` after its checks. */
function createsChannel(method: string, url: string): boolean {
  const path = (url.split('?', 1)[0] ?? '').replace(/(.)\/$/, '$1');
  return method === 'POST' && /^\/api\/v1\/sessions\/[^/]+\/channels$/.test(path);
}

/**
 * The status, headers and first bytes of a response over a real socket (an event stream never
 * ends, so inject() cannot take it), then the connection is dropped.
 */
function firstBytes(
  url: string,
  headers: Record<string, string>,
): Promise<{
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers, agent: false }, (res) => {
      let body = '';
      const done = () => {
        res.destroy();
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (res.statusCode === 200) done();
      });
      res.on('end', done);
    });
    req.on('error', reject);
  });
}

/** A request left hanging (an endless stream, a stuck handler) fails its run instead of the file. */
const RESPONSE_TIMEOUT_MS = 5_000;
async function answeredWithin<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no response within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Generated requests carry short descriptions: a 1 MiB body must not flood a failure report.
// ---------------------------------------------------------------------------------------------

interface Payload {
  payload: string | Buffer | undefined;
  what: string;
}
const payload = (
  value: string | Buffer | undefined,
  what?: string,
): Payload & fc.WithToStringMethod => {
  const shown =
    what ??
    (value === undefined
      ? 'none'
      : JSON.stringify(
          value.length > 300 ? `${String(value).slice(0, 300)}…(${value.length})` : String(value),
        ));
  return { payload: value, what: shown, [fc.toStringMethod]: () => shown };
};

type Route = ServedRoute;
/** spec/api-v1.md: routes of capability `manage` (sessions lifecycle and settings, API keys). */
const MANAGE_ONLY =
  /^\/api\/v1\/(sessions(\/\{session\}(:(start|stop|restart|logout)|\/qr|\/pairing-code)?)?|api-keys(\/\{id\})?|webhooks(\/\{webhook\}(:rotate-secret|\/deliveries(\/\{delivery\}:redeliver)?)?)?)$/;
/** Platform-admin routes: none of this suite's callers is an admin. */
const ADMIN_ONLY = /^\/api\/v1\/gateways/;
/** Server-Sent Events never end: inject() would wait for ever. */
const STREAMING = new Set(['/api/v1/events']);

/** Who calls: nobody, a real key or login, a real key with a wrong secret, or any header at all. */
type Credential = 'none' | 'manage' | 'send' | 'owner' | 'member' | 'tampered' | { header: string };

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  credential: Credential;
  body: Payload;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const printable = (maxLength: number, minLength = 0): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength,
    maxLength,
  });
/** Strange but real text: NUL, lone surrogates, non-characters, RTL override, combining marks, emoji. */
const oddChar = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udfff',
  '\ufffe',
  '\uffff',
  '\u202e',
  '\u0301',
  '😀',
  'é',
  '\u00a0',
  '"',
  '\\',
  '\n',
  '\t',
  '%',
);
const oddString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.oneof(oddChar, fc.string({ minLength: 1, maxLength: 1 })), maxLength }),
  );

/** Every byte but the unreserved ones as %XX of its UTF-8 (a lone surrogate becomes U+FFFD, as a client would send it). */
const percentEncode = (text: string): string =>
  Array.from(Buffer.from(text, 'utf8'), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');

const segment: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '',
      '.',
      '..',
      '%2e%2e',
      '%2F',
      '%2f..%2f',
      '%00',
      '%ZZ',
      '%',
      '%E0%A4%A',
      '%ud800',
      '%ED%A0%80',
      '%C0%AE',
      ';x=1',
      '~',
      '*',
      ':start',
      '%3Astart',
      '__proto__',
      'constructor',
      'prototype',
      'null',
      'undefined',
      '0',
      '-1',
      '1e400',
      'NaN',
    ),
    weight: 3,
  },
  { arbitrary: fc.ulid().map((u) => u.toUpperCase()), weight: 2 },
  { arbitrary: oddString().map(percentEncode), weight: 3 },
  // Raw, so `%` may start a malformed escape. No backslash: inject() parses the URL as browsers do,
  // where a backslash is a slash (a server sees it as it is); `%5C` comes from percentEncode.
  { arbitrary: printable(30).map((s) => s.replace(/[/?#\\]/g, '')), weight: 3 },
  { arbitrary: fc.integer({ min: 100, max: 3000 }).map((n) => 'a'.repeat(n)), weight: 1 },
);
const action = fc.oneof(
  fc.constantFrom('start', 'stop', 'restart', 'logout', 'drain', ''),
  printable(10).map((s) => s.replace(/[/?#\\]/g, '')),
);

/** Paths under /api/v1 shaped like the contract's routes, around them, and outside. */
const pathArb = (ids: () => string[]): fc.Arbitrary<string> => {
  const existing = fc.nat(9).map((i) => ids()[i % Math.max(ids().length, 1)] ?? '');
  return fc.oneof(
    {
      arbitrary: fc.constantFrom(
        '/api/v1/sessions',
        '/api/v1/sessions/',
        '/api/v1/api-keys',
        '/api/v1/api-keys/',
      ),
      weight: 3,
    },
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom('/api/v1/sessions/', '/api/v1/api-keys/', '/api/v1/webhooks/'),
          fc.oneof(segment, existing),
        )
        .map(([p, s]) => p + s),
      weight: 3,
    },
    {
      arbitrary: fc
        .tuple(
          fc.oneof(segment, existing),
          fc.oneof(segment, existing),
          fc.constantFrom(':rotate-secret', '/deliveries', '/deliveries/', ':redeliver', ''),
          fc.constantFrom(':redeliver', ':rotate-secret', '', ':x'),
        )
        .map(([w, d, sub, verb]) =>
          sub === '/deliveries/'
            ? `/api/v1/webhooks/${w}/deliveries/${d}${verb}`
            : `/api/v1/webhooks/${w}${sub}`,
        ),
      weight: 2,
    },
    {
      arbitrary: fc.constantFrom(
        '/api/v1',
        '/api/v1/',
        '/',
        '/api/v2/sessions',
        '//api/v1/sessions',
        '/api/v1//sessions',
        '/API/V1/SESSIONS',
        '/healthz',
        '/readyz',
        '/api/docs-json',
        '/api/docs',
        '/api/v1/gateways',
        '/api/v1/webhooks',
      ),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fc.oneof(segment, existing), action)
        .map(([s, a]) => `/api/v1/sessions/${s}:${a}`),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(
          fc.oneof(segment, existing),
          fc.constantFrom(
            'qr',
            'pairing-code',
            'messages',
            'channels',
            'chats/x/messages',
            '..',
            '%2e%2e',
            '',
          ),
        )
        .map(([s, sub]) => `/api/v1/sessions/${s}/${sub}`),
      weight: 1,
    },
    {
      arbitrary: fc
        .array(segment, { minLength: 1, maxLength: 5 })
        .map((segs) => `/api/v1/${segs.join('/')}`),
      weight: 1,
    },
    {
      arbitrary: fc
        .array(segment, { minLength: 0, maxLength: 4 })
        .map((segs) => `/${segs.join('/')}`),
      weight: 1,
    },
    {
      arbitrary: fc
        .array(segment, { minLength: 1, maxLength: 3 })
        .map((segs) => `/api/docs/${segs.join('/')}`),
      weight: 1,
    },
  );
};

const queryArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant(''), weight: 3 },
  {
    arbitrary: fc
      .array(
        fc.oneof(
          fc
            .tuple(printable(12), printable(20))
            .map(([k, v]) => `${k.replace(/[#&=]/g, '')}=${v.replace(/[#&]/g, '')}`),
          fc
            .tuple(oddString(8), oddString(20))
            .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`),
          fc.constantFrom(
            '__proto__[x]=1',
            'constructor[prototype][x]=1',
            '__proto__=1',
            'a=%',
            'a=%ZZ',
            'a',
            '=',
            '&&',
            'limit=-1',
            'limit=1e400',
            'cursor=%00',
            'x[][]=1',
            `a=${'b'.repeat(5000)}`,
          ),
        ),
        { maxLength: 6 },
      )
      .map((pairs) => `?${pairs.join('&')}`),
    weight: 2,
  },
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=UTF-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; boundary=x',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'application/jsonx',
  'text/plain',
  'text/json',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/octet-stream',
  'application/xml',
  '*/*',
  '',
  ';',
  ';;;',
  'application/',
  '/json',
  'json',
];
const typeHeader = (type: string | undefined): Record<string, string> =>
  type !== undefined ? { 'content-type': type } : {};
/** Content-Type values Fastify rejects as malformed (415 → 400) before routing, like a malformed URL. */
const MALFORMED_CONTENT_TYPES = new Set(['', ';', ';;;', 'application/', '/json', 'json']);
const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 4 },
  { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 3 },
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: printable(40), weight: 1 },
);

/**
 * Webhook URLs: public IP literals (accepted without DNS), private/loopback/metadata ones (400),
 * names that never resolve here, odd schemes and shapes. No name that would wait on real DNS.
 */
const urlArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(
      'http://93.184.215.14',
      'https://93.184.215.14:8443',
      'http://[2606:4700:4700::1111]',
      'http://127.0.0.1:9',
      'http://localhost',
      'http://169.254.169.254',
      'http://[::1]',
      'http://[::ffff:10.0.0.1]',
      'http://0x7f000001',
      'http://no-such-host.invalid',
      'ftp://93.184.215.14',
      'javascript:alert(1)',
      'http://user:pw@93.184.215.14',
      'http://',
      '93.184.215.14',
    ),
    fc.oneof(
      fc.constant('/hook'),
      printable(40).map((p) => `/${percentEncode(p)}`),
      fc.constant(''),
    ),
  )
  .map(([origin, path]) => origin + path);

/** Random JSON values, near-valid DTOs, prototype pollution, huge numbers, deep and wide documents, raw junk. */
const bodyArb: fc.Arbitrary<Payload> = fc.oneof(
  { arbitrary: fc.constant(payload(undefined)), weight: 2 },
  { arbitrary: fc.jsonValue().map((v) => payload(JSON.stringify(v) ?? 'null')), weight: 3 },
  {
    arbitrary: fc
      .record(
        {
          label: fc.oneof(oddString(120), fc.jsonValue()),
          autoRead: fc.oneof(fc.boolean(), fc.jsonValue()),
          presenceTyping: fc.oneof(fc.boolean(), fc.jsonValue()),
          start: fc.oneof(fc.boolean(), fc.jsonValue()),
          ratePerMin: fc.oneof(fc.integer({ min: -5, max: 1005 }), fc.double(), fc.jsonValue()),
          ratePerHour: fc.oneof(fc.integer({ min: -5, max: 60_005 }), fc.double(), fc.jsonValue()),
          name: fc.oneof(oddString(120), fc.jsonValue()),
          capabilities: fc.oneof(
            fc.array(fc.constantFrom('manage', 'send', 'admin', 'root', '')),
            fc.jsonValue(),
          ),
          extra: fc.jsonValue(),
          url: fc.oneof(urlArb, oddString(60), fc.jsonValue()),
          eventTypes: fc.oneof(
            fc.array(fc.constantFrom(...PUBLIC_EVENT_TYPES, 'session.*', '', 'x')),
            fc.jsonValue(),
          ),
          sessionId: fc.oneof(fc.ulid(), fc.constant(null), oddString(30), fc.jsonValue()),
          active: fc.oneof(fc.boolean(), fc.jsonValue()),
          gracePeriodMs: fc.oneof(fc.integer({ min: -10, max: 700_000_000 }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      )
      .map((v) => payload(JSON.stringify(v))),
    weight: 4,
  },
  {
    arbitrary: fc
      .constantFrom(
        '{"__proto__":{"isAdminSession":true}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        '{"label":"x","__proto__":null}',
        '{"__proto__":[]}',
        '{"constructor":1}',
        '{"prototype":1}',
        '{"label":{"__proto__":{"x":1}}}',
        '{"hasOwnProperty":1}',
        '{"toString":"x"}',
        '{"valueOf":{}}',
        '{"ratePerMin":1e400}',
        '{"ratePerMin":-1e400}',
        '{"ratePerHour":123456789012345678901234567890}',
        '{"ratePerMin":-0}',
        '{"ratePerMin":1e-400}',
        '{"ratePerMin":9007199254740993}',
        '{"label":1e999}',
        '{"label":"\\u0000"}',
        '{"label":"\\ud800"}',
        '{"name":"\\udfff","capabilities":["send"]}',
        '{"label":"a","label":"b"}',
        '{"label":"a",}',
        "{'label':'a'}",
        '{"label":"a"}garbage',
        '\ufeff{"label":"a"}',
        '{"label":"a"}\u0000',
        ' ',
        '\n',
        'null',
        '[]',
        '""',
        '0',
        'true',
        '{',
        '}',
        '{"a":',
        '[[[[',
        'NaN',
        'Infinity',
        '-',
        '1e400',
        '{"label": "\u2028\u2029"}',
      )
      .map((s) => payload(s)),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({
        depth: fc.integer({ min: 10, max: 200_000 }),
        kind: fc.constantFrom('array', 'object'),
        under: fc.constantFrom('label', 'extra', 'capabilities', ''),
      })
      .map(({ depth, kind, under }) => {
        const inner =
          kind === 'array'
            ? '['.repeat(depth) + ']'.repeat(depth)
            : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        return payload(
          under ? `{"${under}":${inner}}` : inner,
          `${kind} nested ${depth} deep under "${under}"`,
        );
      }),
    weight: 2,
  },
  {
    arbitrary: fc
      .integer({ min: 100, max: 20_000 })
      .map((n) =>
        payload(
          JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
          `${n} unknown keys`,
        ),
      ),
    weight: 1,
  },
  {
    arbitrary: fc
      .constantFrom(BODY_LIMIT - 20, BODY_LIMIT + 1, 3 * BODY_LIMIT)
      .map((n) => payload(JSON.stringify({ label: 'x'.repeat(n) }), `label of ${n} chars`)),
    weight: 1,
  },
  { arbitrary: oddString(200).map((s) => payload(s)), weight: 2 },
  {
    arbitrary: fc
      .uint8Array({ maxLength: 200 })
      .map((b) => payload(Buffer.from(b), `${b.length} random bytes`)),
    weight: 1,
  },
);

/** Text for fields that take text: mostly odd characters (NUL, lone surrogates, emoji, RTL…). */
const oddText = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    oddString(maxLength),
    fc.string({ unit: fc.oneof(oddChar, fc.string({ minLength: 1, maxLength: 1 })), maxLength }),
  );

/** Bodies each route accepts, but for their odd text and values at (and just past) the edges. */
const VALID_BODIES = {
  createSession: fc.record(
    {
      label: fc.oneof(
        oddText(100),
        fc.constant(null),
        fc.string({ minLength: 100, maxLength: 101 }),
      ),
      autoRead: fc.boolean(),
      presenceTyping: fc.boolean(),
      start: fc.boolean(),
    },
    { requiredKeys: [] },
  ),
  updateSession: fc.record(
    {
      label: fc.oneof(oddText(100), fc.constant(null)),
      autoRead: fc.boolean(),
      presenceTyping: fc.boolean(),
      ratePerMin: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(0, 1001, 1.5)),
      ratePerHour: fc.oneof(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom(0, 60_001)),
    },
    { requiredKeys: [] },
  ),
  createApiKey: fc.record({
    name: fc.oneof(oddText(100), fc.constantFrom('', 'x'.repeat(100), 'x'.repeat(101))),
    capabilities: fc.subarray(['manage', 'send'] as string[], { minLength: 1 }),
  }),
  createWebhook: fc.record(
    {
      url: urlArb,
      eventTypes: fc.subarray([...PUBLIC_EVENT_TYPES] as string[], { minLength: 1 }),
      sessionId: fc.oneof(
        fc.constant(null),
        fc.ulid().map((u) => u.toUpperCase()),
      ),
      active: fc.boolean(),
    },
    { requiredKeys: ['url', 'eventTypes'] },
  ),
  updateWebhook: fc.record(
    {
      url: urlArb,
      eventTypes: fc.subarray([...PUBLIC_EVENT_TYPES] as string[], { minLength: 1 }),
      sessionId: fc.constant(null),
      active: fc.boolean(),
    },
    { requiredKeys: [] },
  ),
  rotateSecret: fc.record(
    { gracePeriodMs: fc.oneof(fc.nat(604_800_000), fc.constantFrom(-1, 604_800_001, 1.5)) },
    { requiredKeys: [] },
  ),
};
const validBody = (kind: keyof typeof VALID_BODIES): fc.Arbitrary<Payload> =>
  VALID_BODIES[kind].map((v) => payload(JSON.stringify(v)));
const validBodyArb: fc.Arbitrary<Payload> = fc.oneof(
  validBody('createSession'),
  validBody('updateSession'),
  validBody('createApiKey'),
  validBody('createWebhook'),
  validBody('updateWebhook'),
  validBody('rotateSecret'),
);

const credentialArb: fc.Arbitrary<Credential> = fc.oneof(
  {
    arbitrary: fc.constantFrom<Credential>('none', 'manage', 'send', 'owner', 'member', 'tampered'),
    weight: 5,
  },
  {
    arbitrary: fc
      .oneof(
        printable(60),
        printable(60).map((s) => `Bearer ${s}`),
        printable(60).map((s) => `Bearer wagw_${s}`),
        fc
          .tuple(fc.stringMatching(/^[0-9a-f]{16}$/), fc.base64String({ maxLength: 44 }))
          .map(([p, s]) => `Bearer wagw_${p}_${s.replace(/=/g, '')}`),
        fc
          .array(fc.base64String({ maxLength: 40 }), { minLength: 3, maxLength: 3 })
          .map((parts) => `Bearer ${parts.join('.').replace(/[=+/]/g, '')}`),
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'bearer',
          'Basic dXNlcjpwYXNz',
          'Bearer a.b.c',
          'Bearer eyJhbGciOiJub25lIn0.e30.',
          'Token abc',
          `Bearer ${'x'.repeat(8000)}`,
        ),
      )
      .map((header) => ({ header })),
    weight: 2,
  },
);

const headersArb: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'x-request-id': fc.oneof(
        printable(80),
        fc.constantFrom('trace-1', 'a'.repeat(64), 'a'.repeat(65), '../..', '<script>', ''),
      ),
      accept: fc.constantFrom('application/json', 'image/png', '*/*', 'text/html', 'garbage', ''),
      'content-length': fc.oneof(fc.nat(5000).map(String), fc.constantFrom('-1', 'abc', '1e3', '')),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'garbage'),
      'x-forwarded-for': printable(40),
      cookie: printable(40),
      origin: printable(30),
      'transfer-encoding': fc.constantFrom('chunked', 'gzip', 'garbage'),
    },
    { requiredKeys: [] },
  )
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)));

const methodArb = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      'PUT',
      'OPTIONS',
      'HEAD',
      'TRACE',
      'PROPFIND',
      'SEARCH',
      'LOCK',
      'MKCOL',
      'COPY',
      'QUERY',
    ),
    weight: 2,
  },
);

// ---------------------------------------------------------------------------------------------

describe('fuzz: bad input never yields a 5xx and every error is the envelope', () => {
  const jwks = new JwksServer();
  let api: InProcessApi;
  const org = `org_fuzz_${randomUUID()}`;
  const tokens: Record<'manage' | 'send' | 'owner' | 'member', string> = {
    manage: '',
    send: '',
    owner: '',
    member: '',
  };
  /** Resources P1/P3 may hit (and delete); P2 uses its own. */
  const sharedIds: string[] = [];
  let ownSessionId: string;
  let ownWebhookId: string;

  beforeAll(async () => {
    const signing = await newSigningKey('fuzz-1');
    jwks.keys = [signing];
    api = await startInProcessApi({
      AUTH_JWKS_URL: await jwks.start(),
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_AUDIENCE: TEST_AUDIENCE,
      // Bad input is the subject here, not quotas (test/medium/org-quotas.test.ts has those).
      ORG_MAX_SESSIONS: '1000000',
      ORG_MAX_PAIRING: '1000000',
    });
    tokens.manage = await api.apiKey(org);
    tokens.send = await api.apiKey(org, ['send']);
    tokens.owner = await signToken({
      key: signing,
      claims: { org_id: org, role: 'owner', sub: 'user_fuzz' },
      expiresIn: '1h',
    });
    tokens.member = await signToken({
      key: signing,
      claims: { org_id: org, role: 'member', sub: 'user_fuzz_m' },
      expiresIn: '1h',
    });
    for (let i = 0; i < 3; i++)
      sharedIds.push((await call('POST', '/api/v1/sessions', 'manage', '{}')).json().id as string);
    ownSessionId = (await call('POST', '/api/v1/sessions', 'manage', '{}')).json().id as string;
    const webhook = JSON.stringify({ url: 'http://93.184.215.14/hook', eventTypes: ['auth.qr'] });
    ownWebhookId = (await call('POST', '/api/v1/webhooks', 'manage', webhook)).json().id as string;
    sharedIds.push((await call('POST', '/api/v1/webhooks', 'manage', webhook)).json().id as string);
    const key = await call(
      'POST',
      '/api/v1/api-keys',
      'owner',
      JSON.stringify({ name: 'fuzz', capabilities: ['send'] }),
    );
    sharedIds.push(key.json().id as string);
  });

  afterAll(async () => {
    await api?.close();
    await jwks.stop();
  });

  function authorization(credential: Credential): Record<string, string> {
    if (credential === 'none') return {};
    if (typeof credential === 'object') return { authorization: credential.header };
    if (credential === 'tampered')
      return {
        authorization: `Bearer ${tokens.manage.slice(0, -1)}${tokens.manage.endsWith('A') ? 'B' : 'A'}`,
      };
    return { authorization: `Bearer ${tokens[credential]}` };
  }

  function call(
    method: string,
    url: string,
    credential: Credential,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<InjectResponse> {
    return api.app.inject({
      method: method as InjectOptions['method'],
      url,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...authorization(credential),
        ...headers,
      },
      ...(body !== undefined ? { payload: body } : {}),
    });
  }

  /** Statuses seen by the running property: a fuzzer that only ever meets 404 proves nothing. */
  const statuses = new Map<number, number>();
  beforeEach(() => statuses.clear());
  function expectReached(...expected: number[]): void {
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining(expected));
  }

  async function send(req: FuzzRequest): Promise<InjectResponse> {
    const res = await answeredWithin(
      RESPONSE_TIMEOUT_MS,
      `${req.method} ${req.url.slice(0, 200)}`,
      api.app.inject({
        method: req.method as InjectOptions['method'],
        url: req.url,
        headers: { ...req.headers, ...authorization(req.credential) },
        ...(req.body.payload !== undefined ? { payload: req.body.payload } : {}),
      }),
    );
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    return res;
  }

  /** The property every response must satisfy, whatever was sent. */
  function expectWellFormed(
    req: Pick<FuzzRequest, 'method' | 'url' | 'headers'>,
    res: InjectResponse,
  ): void {
    const context = `${req.method} ${req.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
    const fail = (why: string): never => {
      throw new Error(`${why}\n  ${context}`);
    };
    if (
      res.statusCode >= 500 &&
      !(res.statusCode === 503 && commandsGateway(req.method, req.url)) &&
      !(res.statusCode === 501 && createsChannel(req.method, req.url))
    )
      fail('5xx');
    const requestId = res.headers['x-request-id'];
    if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId))
      fail(`no sane x-request-id: ${String(requestId)}`);
    const sent = req.headers['x-request-id'];
    if (sent !== undefined && REQUEST_ID.test(sent) && requestId !== sent)
      fail(`x-request-id ${sent} not echoed`);
    const apiPath = /^\/api\/v1(\/|$|\?)/.test(req.url);
    if (apiPath && res.statusCode < 200) fail('1xx');
    if (apiPath && res.statusCode >= 300 && res.statusCode < 400) fail('3xx under /api/v1');
    if (res.statusCode >= 400) {
      if (!String(res.headers['content-type']).startsWith('application/json'))
        fail(`error content-type ${String(res.headers['content-type'])}`);
      // Node's HTTP server drops a HEAD response's body; inject() keeps it, so check it when there.
      if (req.method === 'HEAD' && res.body === '') return;
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        fail('error body is not JSON');
      }
      const envelope = body as { error?: Record<string, unknown> };
      if (
        typeof body !== 'object' ||
        body === null ||
        Array.isArray(body) ||
        Object.keys(body).join() !== 'error'
      )
        fail('not { error }');
      const error = envelope.error;
      if (typeof error !== 'object' || error === null || Array.isArray(error))
        fail('error is not an object');
      if (Object.keys(error!).sort().join() !== 'code,details,message')
        fail(`error keys ${Object.keys(error!).join()}`);
      const { code, message, details } = error as {
        code: unknown;
        message: unknown;
        details: unknown;
      };
      if (typeof code !== 'string' || !(code in STATUS_OF)) fail(`unknown code ${String(code)}`);
      // The one HTTP-level refusal with its own status: GET /qr's content negotiation (406).
      const negotiation =
        res.statusCode === 406 && code === 'validation_error' && /\/qr(\?|$)/.test(req.url);
      if (STATUS_OF[code as string] !== res.statusCode && !negotiation)
        fail(`code ${String(code)} with status ${res.statusCode}`);
      if (typeof message !== 'string' || message === '') fail('message is not a non-empty string');
      if (LEAK.test(message as string)) fail('message leaks internals');
      if (typeof details !== 'object' || details === null || Array.isArray(details))
        fail('details is not an object');
    } else if (apiPath && res.statusCode >= 200 && res.statusCode < 300 && req.method !== 'HEAD') {
      if (res.statusCode === 204) {
        if (res.body !== '') fail('204 with a body');
      } else {
        if (!String(res.headers['content-type']).startsWith('application/json'))
          fail('2xx is not JSON');
        const body: unknown = JSON.parse(res.body);
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          fail('2xx body is not a JSON object');
      }
    }
  }

  const requestArb = (
    paths: fc.Arbitrary<string>,
    methods: fc.Arbitrary<string> = methodArb,
  ): fc.Arbitrary<FuzzRequest> =>
    fc
      .record({
        method: methods,
        path: paths,
        query: queryArb,
        headers: fc.oneof(
          { arbitrary: fc.constant({}), weight: 2 },
          { arbitrary: headersArb, weight: 1 },
        ),
        contentType: contentTypeArb,
        credential: credentialArb,
        body: fc.oneof({ arbitrary: bodyArb, weight: 3 }, { arbitrary: validBodyArb, weight: 1 }),
      })
      .map(({ method, path, query, headers, contentType, credential, body }) => ({
        method,
        url: path + query,
        credential,
        body,
        headers: {
          ...typeHeader(contentType),
          ...headers,
        },
      }));

  it('P1: any method, path, query, headers, credential and body', async () => {
    await fc.assert(
      fc.asyncProperty(requestArb(pathArb(() => sharedIds)), async (req) => {
        expectWellFormed(req, await send(req));
      }),
      params(),
    );
    expectReached(200, 400, 401, 403, 404, 413);
  });

  describe('every route', () => {
    const ROUTES: {
      method: string;
      /** The route's URL for the suite's own resources. */
      path: (ids: { session: string; webhook: string }) => string;
      credential: Credential;
      body?: keyof typeof VALID_BODIES;
      /** Besides 200/201/400/413: a referenced session may not exist; quotas fill up. */
      also?: number[];
    }[] = [
      {
        method: 'POST',
        path: () => '/api/v1/sessions',
        credential: 'manage',
        body: 'createSession',
        also: [429], // ORG_MAX_PAIRING: `start: true` pairings fill the quota
      },
      { method: 'GET', path: () => '/api/v1/sessions', credential: 'manage' },
      { method: 'GET', path: (id) => `/api/v1/sessions/${id.session}`, credential: 'manage' },
      {
        method: 'PATCH',
        path: (id) => `/api/v1/sessions/${id.session}`,
        credential: 'manage',
        body: 'updateSession',
      },
      {
        method: 'DELETE',
        path: (id) => `/api/v1/sessions/${id.session}`,
        credential: 'manage',
      },
      { method: 'POST', path: () => '/api/v1/api-keys', credential: 'owner', body: 'createApiKey' },
      { method: 'GET', path: () => '/api/v1/api-keys', credential: 'owner' },
      {
        method: 'DELETE',
        path: (id) => `/api/v1/api-keys/${id.session}`,
        credential: 'owner',
      },
      {
        method: 'POST',
        path: () => '/api/v1/webhooks',
        credential: 'manage',
        body: 'createWebhook',
        also: [404, 429],
      },
      {
        method: 'PATCH',
        path: (id) => `/api/v1/webhooks/${id.webhook}`,
        credential: 'owner',
        body: 'updateWebhook',
      },
      {
        method: 'POST',
        path: (id) => `/api/v1/webhooks/${id.webhook}:rotate-secret`,
        credential: 'manage',
        body: 'rotateSecret',
      },
    ];

    it('P2: random bodies at the body routes, authenticated; what is accepted reads back the same', async () => {
      const routeAndBody = fc
        .constantFrom(...ROUTES.filter((r) => r.body))
        .chain((route) =>
          fc.tuple(
            fc.constant(route),
            fc.oneof(
              { arbitrary: bodyArb, weight: 1 },
              { arbitrary: validBody(route.body!), weight: 2 },
            ),
          ),
        );
      await fc.assert(
        fc.asyncProperty(
          routeAndBody,
          fc.oneof(fc.constant('application/json'), contentTypeArb),
          async ([route, body], contentType) => {
            const url = route.path({ session: ownSessionId, webhook: ownWebhookId });
            const headers = typeHeader(contentType);
            const res = await send({
              method: route.method,
              url,
              headers,
              credential: route.credential,
              body,
            });
            expectWellFormed({ method: route.method, url, headers }, res);
            expect([200, 201, 400, 413, ...(route.also ?? [])]).toContain(res.statusCode);
            // What was accepted is stored as answered: no text silently altered on its way to Postgres.
            if (res.statusCode < 300 && url.startsWith('/api/v1/webhooks')) {
              const { secret, ...answered } = res.json();
              if (route.body !== 'updateWebhook') expect(secret).toMatch(/^whsec_/);
              const read = (await call('GET', `/api/v1/webhooks/${answered.id}`, 'manage')).json();
              // A grace period of a few ms may have ended in between: shown, or gone.
              expect([null, answered.previousSecretExpiresAt]).toContain(
                read.previousSecretExpiresAt,
              );
              expect(read).toEqual({
                ...answered,
                updatedAt: read.updatedAt,
                previousSecretExpiresAt: read.previousSecretExpiresAt,
              });
            } else if (res.statusCode < 300 && url.startsWith('/api/v1/sessions')) {
              const answered = res.json();
              const read = await call('GET', `/api/v1/sessions/${answered.id}`, 'manage');
              expect(read.json()).toEqual({ ...answered, updatedAt: read.json().updatedAt });
            } else if (res.statusCode < 300) {
              const { secret: _secret, ...answered } = res.json();
              const list = await call('GET', '/api/v1/api-keys', 'owner');
              expect(list.json().items.find((k: { id: string }) => k.id === answered.id)).toEqual(
                answered,
              );
            }
          },
        ),
        params(),
      );
      expectReached(200, 201, 400, 413);
    });

    /** Every (method, path template) the router serves under /api/v1. */
    const apiRoutes = (): Route[] =>
      servedRoutes(api.app).filter(
        (r) =>
          r.template.startsWith('/api/v1/') && !STREAMING.has(r.template) && r.method !== 'HEAD',
      );
    const fill = (template: string, id: string): string => template.replace(/\{[^}]+\}/g, id);

    it('reads the router (sanity: the contract routes are among those fuzzed)', () => {
      expect(apiRoutes().map((r) => `${r.method} ${r.template}`)).toEqual(
        expect.arrayContaining([
          'POST /api/v1/sessions',
          'GET /api/v1/sessions',
          'GET /api/v1/sessions/{session}',
          'PATCH /api/v1/sessions/{session}',
          'DELETE /api/v1/sessions/{session}',
          'POST /api/v1/api-keys',
          'GET /api/v1/api-keys',
          'DELETE /api/v1/api-keys/{id}',
        ]),
      );
    });

    it('P3: random path segments at every route the router serves, authenticated', async () => {
      const routes = apiRoutes();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.oneof(segment, fc.constant(ownSessionId), fc.constant(ownWebhookId)),
          fc.constantFrom<Credential>('owner', 'manage'),
          fc.oneof(bodyArb, validBodyArb),
          async (route, id, credential, body) => {
            const url = fill(route.template, id);
            const headers = typeHeader(body.payload !== undefined ? 'application/json' : undefined);
            const res = await send({ method: route.method, url, headers, credential, body });
            expectWellFormed({ method: route.method, url, headers }, res);
          },
        ),
        params(),
      );
      expectReached(200, 201, 400, 404);
    });

    it('P4: random headers at every route, with and without credentials', async () => {
      const routes = apiRoutes();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          headersArb,
          contentTypeArb,
          credentialArb,
          bodyArb,
          async (route, headers, contentType, credential, body) => {
            const url = fill(route.template, sharedIds[0]!);
            const all = { ...typeHeader(contentType), ...headers };
            const res = await send({ method: route.method, url, headers: all, credential, body });
            expectWellFormed({ method: route.method, url, headers: all }, res);
          },
        ),
        params(),
      );
      expectReached(200, 400, 401, 403);
    });

    it('P5: check order: no valid credential is 401, a missing capability 403, whatever else is wrong', async () => {
      const routes = apiRoutes();
      const badCredential = fc.oneof(
        fc.constantFrom<Credential>('none', 'tampered'),
        credentialArb.filter((c) => typeof c === 'object'),
      );
      // Within the router's maxParamLength (200): a longer parameter is an unknown route, 404 before auth.
      // Not `.`/`..` either: inject() resolves dot segments as a URL parser does, a server does not.
      // Nor `~…`: `/~verb` is the internal form of custom methods, unrouted (404) from outside.
      const wellFormedId = fc
        .oneof(fc.ulid(), oddString().map(percentEncode), printable(20).map(percentEncode))
        .filter(
          (id) =>
            id !== '' && id.length <= 200 && !/^(\.|%2E){1,2}$/i.test(id) && !id.startsWith('~'),
        );
      const wellFormedType = fc.constantFrom(
        ...CONTENT_TYPES.filter((t) => !MALFORMED_CONTENT_TYPES.has(t)),
        undefined,
      );
      const orderBody = bodyArb.filter(
        (b) => b.payload === undefined || Buffer.byteLength(b.payload) <= BODY_LIMIT,
      );
      /** 403 where the contract says so; null where the credential may pass (then skipped). */
      const expectedStatus = (route: Route, credential: Credential): number | null => {
        if (typeof credential === 'object' || credential === 'none' || credential === 'tampered')
          return 401;
        if (ADMIN_ONLY.test(route.template)) return 403;
        if (!MANAGE_ONLY.test(route.template)) return null;
        if (credential === 'send' || credential === 'member') return 403;
        return route.template.startsWith('/api/v1/api-keys') ? 403 : null; // login only
      };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          wellFormedId,
          orderBody,
          wellFormedType,
          fc.oneof(badCredential, fc.constantFrom<Credential>('send', 'member', 'manage')),
          async (route, id, body, contentType, credential) => {
            const expected = expectedStatus(route, credential);
            fc.pre(expected !== null);
            const url = fill(route.template, id);
            const headers = typeHeader(contentType);
            const res = await send({ method: route.method, url, headers, credential, body });
            expectWellFormed({ method: route.method, url, headers }, res);
            expect([route.method, url, body.what, contentType, res.statusCode]).toEqual([
              route.method,
              url,
              body.what,
              contentType,
              expected,
            ]);
          },
        ),
        params(),
      );
      expectReached(401, 403);
    });

    it('P6: the event stream over a real socket: random query, Last-Event-ID and credentials', async () => {
      await api.app.listen(0, '127.0.0.1');
      const base = await api.app.getUrl();
      const streamQuery = fc.oneof(
        queryArb,
        fc
          .record(
            {
              sessionId: fc.oneof(
                fc.constant(ownSessionId),
                fc.ulid().map((u) => u.toUpperCase()),
                oddString(30).map(percentEncode),
              ),
              types: fc.oneof(
                fc.subarray([...PUBLIC_EVENT_TYPES] as string[]).map((t) => t.join(',')),
                oddString(30).map(percentEncode),
              ),
              lastEventId: fc.oneof(
                fc.nat().map(String),
                fc.constantFrom('0', '-1', '1e3', '9'.repeat(20), ''),
                oddString(10).map(percentEncode),
              ),
            },
            { requiredKeys: [] },
          )
          .map(
            (q) =>
              `?${Object.entries(q)
                .map(([k, v]) => `${k}=${v}`)
                .join('&')}`,
          ),
      );
      const lastEventIdHeader = fc.option(
        fc.oneof(fc.nat().map(String), printable(20), fc.constantFrom('', ' 1', '00', '1.5')),
        { nil: undefined },
      );
      await fc.assert(
        fc.asyncProperty(
          streamQuery,
          lastEventIdHeader,
          credentialArb,
          async (query, lastEventId, credential) => {
            const url = `/api/v1/events${query}`;
            const headers = {
              ...authorization(credential),
              ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
            };
            const res = await answeredWithin(
              RESPONSE_TIMEOUT_MS,
              `GET ${url}`,
              firstBytes(base + url, headers),
            );
            statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
            if (res.statusCode === 200) {
              expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
              expect(res.body.startsWith('retry: 1000\n\n')).toBe(true);
            } else {
              expectWellFormed({ method: 'GET', url, headers }, res as unknown as InjectResponse);
            }
          },
        ),
        { ...params(), numRuns: Math.ceil(RUNS / 4) },
      );
      expectReached(200, 400, 401, 404);
    });
  });

  describe('regressions', () => {
    it.each([
      [
        'NUL in a label (Postgres text cannot hold it)',
        'POST',
        '/api/v1/sessions',
        '{"label":"a\\u0000b"}',
        400,
      ],
      [
        'a lone surrogate in a label (not UTF-8)',
        'POST',
        '/api/v1/sessions',
        '{"label":"\\ud800"}',
        400,
      ],
      [
        'NUL in an API-key name',
        'POST',
        '/api/v1/api-keys',
        '{"name":"a\\u0000","capabilities":["send"]}',
        400,
      ],
      [
        'an array nested 200k deep',
        'POST',
        '/api/v1/sessions',
        `{"label":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
        400,
      ],
      [
        'an object nested 100k deep',
        'POST',
        '/api/v1/sessions',
        `{"x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
        400,
      ],
      [
        'prototype pollution',
        'POST',
        '/api/v1/sessions',
        '{"__proto__":{"isAdminSession":true}}',
        400,
      ],
      [
        'constructor pollution',
        'POST',
        '/api/v1/sessions',
        '{"constructor":{"prototype":{"x":1}}}',
        400,
      ],
    ])('%s: %s %s', async (_what, method, url, body, status) => {
      const res = await call(method, url, url.includes('api-keys') ? 'owner' : 'manage', body);
      expectWellFormed({ method, url, headers: {} }, res);
      expect(res.statusCode).toBe(status);
    });

    it('NUL or a lone surrogate in a path parameter is not a 5xx', async () => {
      for (const id of [
        'a%00b',
        '%00',
        '01J9ZX8K2QHV0M3T6R7P4N5W8%00',
        '%ED%A0%80',
        'a%F0%9F%98%80',
      ]) {
        for (const [method, url, credential] of [
          ['GET', `/api/v1/sessions/${id}`, 'manage'],
          ['PATCH', `/api/v1/sessions/${id}`, 'manage'],
          ['DELETE', `/api/v1/sessions/${id}`, 'manage'],
          ['DELETE', `/api/v1/api-keys/${id}`, 'owner'],
        ] as const) {
          const res = await call(method, url, credential, method === 'PATCH' ? '{}' : undefined);
          expectWellFormed({ method, url, headers: {} }, res);
          expect([400, 404]).toContain(res.statusCode);
        }
      }
    });

    it('a malformed URL still carries the correlation id', async () => {
      const res = await call('GET', '/api/v1/sessions/%E0%A4%A', 'manage', undefined, {
        'x-request-id': 'fuzz-bad-url',
      });
      expectWellFormed(
        {
          method: 'GET',
          url: '/api/v1/sessions/%E0%A4%A',
          headers: { 'x-request-id': 'fuzz-bad-url' },
        },
        res,
      );
      expect(res.statusCode).toBe(400);
    });

    it('authentication comes before the body: malformed JSON or a wrong content type without credentials is 401', async () => {
      for (const [body, type] of [
        ['{"label":', 'application/json'],
        ['label=x', 'text/plain'],
        ['', 'application/json'],
        ['x', 'application/xml'],
      ] as const) {
        const res = await api.app.inject({
          method: 'POST',
          url: '/api/v1/sessions',
          headers: { 'content-type': type },
          payload: body,
        });
        expectWellFormed({ method: 'POST', url: '/api/v1/sessions', headers: {} }, res);
        expect([type, res.statusCode]).toEqual([type, 401]);
      }
    });

    it('the property can fail (sanity): a framework-shaped error is rejected', () => {
      const fake = (statusCode: number, body: string): InjectResponse =>
        ({
          statusCode,
          body,
          headers: { 'content-type': 'application/json', 'x-request-id': 'r' },
        }) as unknown as InjectResponse;
      const req = { method: 'GET', url: '/api/v1/x', headers: {} };
      expect(() =>
        expectWellFormed(req, fake(404, '{"statusCode":404,"message":"Not Found"}')),
      ).toThrow('not { error }');
      expect(() =>
        expectWellFormed(
          req,
          fake(404, '{"error":{"code":"forbidden","message":"m","details":{}}}'),
        ),
      ).toThrow('with status 404');
      expect(() =>
        expectWellFormed(
          req,
          fake(500, '{"error":{"code":"internal","message":"m","details":{}}}'),
        ),
      ).toThrow('5xx');
      expect(() =>
        expectWellFormed(
          req,
          fake(400, '{"error":{"code":"validation_error","message":"m","details":[]}}'),
        ),
      ).toThrow('details');
      expect(() => expectWellFormed(req, fake(200, '[]'))).toThrow('not a JSON object');
      expect(() =>
        expectWellFormed(
          req,
          fake(404, '{"error":{"code":"not_found","message":"m","details":{}}}'),
        ),
      ).not.toThrow();
    });
  });
});
