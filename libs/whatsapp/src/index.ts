export * from './whatsapp-connection.port.js';
