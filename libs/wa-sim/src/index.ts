export * from './protocol.js';
export { decodeClientFrame, decodeServerFrame } from './frame.codec.js';
export { startWaSim, type WaSimOptions, type WaSimServer } from './wa-sim.server.js';
export {
  WaSimNetwork,
  type SimEviction,
  type SimLinkResult,
  type SimLiveConnection,
  type WaSimLogger,
  type WaSimNetworkOptions,
} from './wa-sim.network.js';
export type { SimDeviceView } from './device.registry.js';
export type { SimMessageRecord, SimMessageStatus, SimPresenceRecord } from './message.store.js';
export type { PairingEntry } from './pairing.registry.js';
export { PAIRING_CODE_ALPHABET } from './sim-ids.util.js';
export { SimError, type SimErrorCode } from './sim.errors.js';
export * from './web/messaging.port.js';
export * from './client/wa-sim-control.client.js';
export { WebSimNetwork, disconnectNode, type WebSimNetworkOptions } from './web/web-sim.network.js';
export { xeddsaVerify } from './web/xeddsa.verify.js';
export {
  issueServerIdentity,
  keyPairFromPrivate,
  loadRootKey,
  type WebServerIdentity,
} from './web/root-key.store.js';
export {
  WebMessagingService,
  type PhoneAddressing,
  type WebMessageRecord,
  type WebMessagingOptions,
} from './web/messaging/web-messaging.service.js';
