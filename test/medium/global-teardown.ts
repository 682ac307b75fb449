import { dropTestDatabase } from '../support/test-database.ts';

export default async function globalTeardown(): Promise<void> {
  const name = process.env.WAGW_MEDIUM_DATABASE_NAME;
  if (name) await dropTestDatabase(name);
}
