import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDataSource } from '@wagw/persistence';
import type { DataSource } from 'typeorm';

describe('entities and migrations', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 1,
      applicationName: 'wagw-drift',
    }).initialize();
  });
  afterAll(() => dataSource.destroy());

  it('have no pending migrations after global setup', async () => {
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('describe the same schema: synchronising the entities would change nothing', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });
});
