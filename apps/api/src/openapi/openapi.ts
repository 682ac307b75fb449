import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  DocumentBuilder,
  type OpenAPIObject,
  type OperationObject,
  type PathItemObject,
  type ReferenceObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
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
  return applyBodyConventions(SwaggerModule.createDocument(app, config));
}

/**
 * What holds for every JSON body because of global wiring, not of any one route's decorators:
 * - the body limit is Fastify's, for every route: a route with a body can answer 413;
 * - ApiValidationPipe rejects unknown fields (`additionalProperties: false`) and reads a missing
 *   body as `{}`, so a body whose fields are all optional may be left out (`required: false`).
 */
export function applyBodyConventions(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  for (const item of Object.values(document.paths) as PathItemObject[]) {
    for (const method of OPERATION_METHODS) {
      const operation: OperationObject | undefined = item[method];
      const body = operation?.requestBody;
      if (!operation || !body || '$ref' in body) continue;
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
