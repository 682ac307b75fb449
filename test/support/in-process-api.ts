import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createInProcessMessaging, InProcessBroker, InProcessEventStream } from '@wagw/messaging';
import { createDataSource } from '@wagw/persistence';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { ApiKeysService } from '../../apps/api/src/api-keys/api-keys.service.js';
import { loadApiConfig } from '../../apps/api/src/config/api-config.js';
import { createApp } from '../../apps/api/src/create-app.js';

export interface InProcessApi {
  app: NestFastifyApplication;
  dataSource: DataSource;
  /** An API key (manage + send) in `org`. */
  apiKey(org: string, capabilities?: ('manage' | 'send')[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * The API in this process against the medium suite's migrated Postgres (see global-setup), or
 * `databaseUrl` (the same database through a proxy, say).
 */
export async function startInProcessApi(
  env: Record<string, string> = {},
  databaseUrl = process.env.WAGW_MEDIUM_DATABASE_URL,
): Promise<InProcessApi> {
  const url = databaseUrl;
  if (!url)
    throw new Error('WAGW_MEDIUM_DATABASE_URL is not set: run through the medium Jest project');
  const config = loadApiConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', ...env });
  const dataSource = await createDataSource({
    url,
    poolSize: 4,
    applicationName: 'wagw-medium',
  }).initialize();
  // No gateway serves this broker: lifecycle commands answer 503, which is what these tests want.
  const broker = new InProcessBroker();
  const messaging = createInProcessMessaging(broker);
  const stream = new InProcessEventStream(broker);
  const app = await createApp(config, dataSource, pino({ level: 'silent' }), {
    commands: messaging.commands,
    consumer: messaging.consumer,
    stream,
  });
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    dataSource,
    async apiKey(org, capabilities = ['manage', 'send']) {
      const created = await app
        .get(ApiKeysService)
        .issue({ organizationId: org, name: 'test', capabilities, createdByUserId: 'test' });
      return created.secret;
    },
    async close() {
      await app.close();
      await stream.close();
      await messaging.close();
      await dataSource.destroy();
    },
  };
}
