export * from './whatsapp-connection.port.js';
export {
  SimulatedConnectionFactory,
  type SimulatedConnectionFactoryOptions,
} from './simulated/simulated-connection.factory.js';
export { SimulatedRequestError } from './simulated/simulated-request.error.js';
