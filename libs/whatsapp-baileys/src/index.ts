export * from './auth/baileys-auth.state.js';
export * from './auth/bounded-cache.store.js';
export * from './baileys.connection.js';
export * from './baileys-connection.factory.js';
export * from './sandbox/sandbox-network.js';
export * from './baileys-message.mapper.js';
export { loadBaileys } from './baileys.module.js';
export { useNativeSignatureCheck } from './native-signatures.js';
