import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDataSource } from '@wagw/persistence';
import type { DataSource } from 'typeorm';

/** Every pool bounds what one statement or one open transaction can hold. */
describe('database timeouts', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 2,
      applicationName: 'wagw-timeouts',
      statementTimeoutMs: 300,
    }).initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('ends a statement that runs past the timeout', async () => {
    await expect(ds.query('SELECT pg_sleep(3)')).rejects.toMatchObject({
      driverError: { code: '57014' },
    });
  });

  it('ends a transaction left idle past the timeout, releasing its locks', async () => {
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query('SELECT 1');
      await new Promise((r) => setTimeout(r, 800));
      await expect(runner.query('SELECT 1')).rejects.toThrow();
    } finally {
      await runner.release().catch(() => undefined);
    }
  });

  it('applies 30 s by default', async () => {
    const plain = await createDataSource({
      url: process.env.WAGW_MEDIUM_DATABASE_URL!,
      poolSize: 1,
      applicationName: 'wagw-timeouts-default',
    }).initialize();
    try {
      expect(await plain.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '30s' }]);
    } finally {
      await plain.destroy();
    }
  });
});
