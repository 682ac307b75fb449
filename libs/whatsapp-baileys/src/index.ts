export * from './auth/baileys-auth.state.js';
export * from './auth/bounded-cache.store.js';
