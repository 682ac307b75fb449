export { startWaSim, type WaSimOptions, type WaSimServer } from './wa-sim.server.js';
export type {
  PairingEntry,
  SimDeviceView,
  SimEviction,
  SimLinkResult,
  SimLiveConnection,
  WaSimLogger,
} from './web/web-sim.views.js';
export type {
  SimMessageRecord,
  SimMessageStatus,
  SimPresence,
  SimPresenceRecord,
} from './web/messaging/message.store.js';
export { SimError, type SimErrorCode } from './sim.errors.js';
export * from './web/messaging.port.js';
export * from './client/wa-sim-control.client.js';
// Types only: the WhatsApp Web side loads Baileys, which `startWaSim` imports on demand, so
// importing this package (the control client) stays light.
export type { WebSimNetwork, WebSimNetworkOptions } from './web/web-sim.network.js';
export type { WebServerIdentity } from './web/root-key.store.js';
export type {
  PhoneAddressing,
  WebMessageRecord,
  WebMessagingOptions,
  WebMessagingService,
} from './web/messaging/web-messaging.service.js';
