export * from './whatsapp-connection.port.js';
export * from './listener-taps.js';
