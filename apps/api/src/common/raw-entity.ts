import type { ObjectLiteral, Repository } from 'typeorm';

/** A raw row (column names) as the repository's entity, with the columns' transformers applied. */
export function entityFromRaw<T extends ObjectLiteral>(
  repo: Repository<T>,
  row: Record<string, unknown>,
): T {
  const entity = repo.create();
  for (const column of repo.metadata.columns) {
    const value = row[column.databaseName];
    const transformer = column.transformer;
    (entity as Record<string, unknown>)[column.propertyName] =
      transformer && !Array.isArray(transformer) ? transformer.from(value) : value;
  }
  return entity;
}
