export { xeddsaVerify } from './xeddsa.verify.js';
