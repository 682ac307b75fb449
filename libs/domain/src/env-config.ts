import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** Thrown at start when the environment does not describe a valid configuration. */
export class ConfigError extends Error {}

/** `@Transform(toInt)`: environment values are strings. */
export const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : value;

/** `@Transform(emptyToUndefined)`: `FOO=` means unset. */
export const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/**
 * Reads the fields of a config class (every field has an initializer, `undefined` for optional
 * ones, so the class itself lists the variables it knows) from the environment and validates
 * them with the class' decorators.
 */
export function loadEnvConfig<T extends object>(
  cls: new () => T,
  env: NodeJS.ProcessEnv,
  what: string,
): T {
  const known = Object.keys(new cls());
  const raw = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => known.includes(key) && value !== undefined),
  );
  const config = plainToInstance(cls, raw);
  const errors = validateSync(config);
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`,
    );
    throw new ConfigError(`invalid ${what}:\n  ${lines.join('\n  ')}`);
  }
  return config;
}

/** A URL as it may be logged: its password masked. */
export function maskUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '***';
  }
}
