import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  DocumentBuilder,
  type OpenAPIObject,
  type OperationObject,
  type ReferenceObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { publicPath } from '../common/custom-methods.js';
import { errorResponse } from './api-responses.decorator.js';

const OPERATION_METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
] as const;

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('WhatsApp Gateway API')
    .setDescription(
      'Multi-tenant WhatsApp gateway. Every error has the shape `{ "error": { "code", "message", "details" } }`.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description: 'Login JWT or API key (wagw_...)',
    })
    .build();
  return applyGlobalConventions(SwaggerModule.createDocument(app, config));
}

/**
 * What holds for every route because of global wiring, not of any one route's decorators:
 * - custom methods are served at their public path `{id}:verb`, not the internal `{id}/~verb`
 *   their controllers declare (a request for that one is a 404; see custom-methods.ts);
 * - every error leaves AllExceptionsFilter as the JSON envelope, whatever a route produces;
 * - the body limit is Fastify's, for every route: a route with a body can answer 413;
 * - ApiValidationPipe rejects unknown fields (`additionalProperties: false`) and reads a missing
 *   body as `{}`, so a body whose fields are all optional may be left out (`required: false`).
 */
export function applyGlobalConventions(document: OpenAPIObject): OpenAPIObject {
  document.paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, item]) => [publicPath(path), item]),
  );
  const schemas = document.components?.schemas ?? {};
  for (const item of Object.values(document.paths)) {
    for (const method of OPERATION_METHODS) {
      const operation: OperationObject | undefined = item[method];
      if (!operation) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400 && response && !('$ref' in response)) {
          response.content = errorResponse(Number(status)).content;
        }
      }
      const body = operation.requestBody;
      if (!body || '$ref' in body) continue;
      operation.responses['413'] ??= errorResponse(413);
      const ref = (body.content['application/json']?.schema as ReferenceObject | undefined)?.$ref;
      const schema: SchemaObject | ReferenceObject | undefined = ref
        ? schemas[ref.replace('#/components/schemas/', '')]
        : undefined;
      if (!schema || '$ref' in schema) continue;
      schema.additionalProperties = false;
      body.required = (schema.required ?? []).length > 0;
    }
  }
  return document;
}

/** UI at `/api/docs`, JSON at `/api/docs-json`. */
export function setupOpenApi(app: NestFastifyApplication): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
  });
}
