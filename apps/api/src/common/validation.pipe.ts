import {
  type ArgumentMetadata,
  Injectable,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import { validationError } from '@wagw/domain';

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
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === undefined || value === '') value = {};
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw validationError('the body must be a JSON object', {
          fields: { body: ['must be an object'] },
        });
      }
    }
    return super.transform(value, metadata);
  }
}
