export * from './data-source.js';
export * from './embedded/embedded-postgres.js';
export * from './entities/api-key.entity.js';
export * from './entities/session.entity.js';
export * from './open-database.js';
export * from './entities/gateway.entity.js';
export * from './entities/wa-auth.entity.js';
export * from './auth-state.rows.js';
