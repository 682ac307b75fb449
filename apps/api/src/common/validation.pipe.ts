import {
  type ArgumentMetadata,
  Injectable,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import { validationError } from '@wagw/domain';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';

/**
 * A request body Fastify could not take: malformed or empty JSON, or a content type other than
 * JSON. Fastify would answer 400 while parsing, before any guard: an anonymous caller would see a
 * 400 where the contract's check order (401 → 403 → 400) promises a 401. The body parser hands this
 * placeholder on instead, and ApiValidationPipe throws `error` when a route reads its body, after
 * authentication and capability checks. A route that takes no body ignores it.
 *
 * Anything reading `request.body` outside a `@Body()` parameter must treat this as invalid input.
 */
export class RejectedBody {
  constructor(readonly error: Error) {}
}

type JsonParser = (
  request: FastifyRequest,
  body: string,
  done: (error: Error | null, body?: unknown) => void,
) => void;

/** JSON as Fastify parses it (`__proto__` and `constructor.prototype` keys refused); the body limit still answers 413. */
export function deferBodyErrors(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error') as JsonParser;
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error, value) =>
      done(null, error ? new RejectedBody(error) : value),
    );
  });
  // Every other content type, and a body without one: read (within the limit), then refused.
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => {
    done(null, new RejectedBody(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE()));
  });
}

/** No DTO nests deeper; a deeper body would only overflow class-transformer's recursion (a 500). */
export const MAX_BODY_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text Postgres can store and UTF-8 can encode: no NUL, no lone surrogate. */
const isStorableText = (value: string): boolean =>
  !value.includes('\u0000') && !LONE_SURROGATE.test(value);

/**
 * Walks an input without recursion: the first problem that no DTO rule can catch safely, as
 * `{ field: [reason] }`, or null. Depth is checked before class-transformer recurses into it.
 */
export function unsafeInput(value: unknown, root: string): Record<string, string[]> | null {
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length > 0) {
    const [current, path, depth] = stack.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current))
        return { [path]: [`${path} must be text without NUL characters or lone surrogates`] };
    } else if (typeof current === 'object' && current !== null) {
      if (depth >= MAX_BODY_DEPTH)
        return { [root]: [`${root} is nested deeper than ${MAX_BODY_DEPTH} levels`] };
      for (const [key, child] of Object.entries(current)) {
        stack.push([child, path === root && root === 'body' ? key : `${path}.${key}`, depth + 1]);
      }
    }
  }
  return null;
}

/** Collects `{ "label": ["label must be ..."], "extra": ["property extra should not exist"] }`. */
export function fieldErrors(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) out[path] = Object.values(error.constraints);
    if (error.children?.length) Object.assign(out, fieldErrors(error.children, path));
  }
  return out;
}

/**
 * Global validation: unknown fields are errors, types are never coerced from JSON, and a body
 * that is not a JSON object (array, string, null) is rejected before class-validator sees it.
 * So are a body Fastify could not parse (see RejectedBody), a body nested too deep, and text the
 * database cannot store (NUL, lone surrogates) in the body or in path and query parameters.
 */
@Injectable()
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => {
        const fields = fieldErrors(errors);
        return validationError(`invalid ${Object.keys(fields).join(', ')}`, { fields });
      },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      if (value instanceof RejectedBody) throw value.error;
      if (metadata.metatype && metadata.metatype !== Object) {
        if (value === undefined || value === '') value = {};
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          throw validationError('the body must be a JSON object', {
            fields: { body: ['must be an object'] },
          });
        }
      }
    }
    if (metadata.type === 'body' || metadata.type === 'param' || metadata.type === 'query') {
      const root = metadata.type === 'body' ? 'body' : (metadata.data ?? metadata.type);
      const fields = unsafeInput(value, root);
      if (fields) throw validationError(`invalid ${Object.keys(fields).join(', ')}`, { fields });
    }
    return super.transform(value, metadata);
  }
}
