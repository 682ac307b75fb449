export * from './whatsapp-connection.port.js';
export * from './listener-taps.js';
export * from './memory-auth.store.js';
