export { withSharedTransactionStorage } from './shared-transaction-storage.js';
