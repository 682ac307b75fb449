import { jidDecode } from '@whiskeysockets/baileys';
import type { WebSimContext } from '../messaging.port.js';
import { SimPhone } from './sim-phone.model.js';

/** A number's device as a JID names it: `user` resolved to the phone number. */
export interface ResolvedDevice {
  phoneNumber: string;
  device: number;
  addressing: 'pn' | 'lid';
}

/**
 * The simulated phones (device 0 of every number), created on first use with the identity the
 * transport gave the number.
 */
export class SimPhoneRegistry {
  private readonly phones = new Map<string, SimPhone>();

  constructor(private readonly context: () => WebSimContext) {}

  get(phoneNumber: string): SimPhone {
    let phone = this.phones.get(phoneNumber);
    if (!phone) {
      const web = this.context().phone(phoneNumber);
      phone = new SimPhone(phoneNumber, web.lid, {
        keyPair: web.identity,
        registrationId: web.registrationId,
      });
      this.phones.set(phoneNumber, phone);
    }
    return phone;
  }

  /** `<digits>[:dev]@s.whatsapp.net` or a `<lid>[:dev]@lid` the network issued → number and device. */
  resolve(jid: string): ResolvedDevice | undefined {
    const decoded = jidDecode(jid);
    if (!decoded?.user) return undefined;
    const device = decoded.device ?? 0;
    if (decoded.server === 's.whatsapp.net') {
      return /^\d{5,20}$/.test(decoded.user)
        ? { phoneNumber: decoded.user, device, addressing: 'pn' }
        : undefined;
    }
    if (decoded.server !== 'lid') return undefined;
    const phoneNumber = this.context().phoneByLid(`${decoded.user}@lid`);
    return phoneNumber === undefined ? undefined : { phoneNumber, device, addressing: 'lid' };
  }

  get size(): number {
    return this.phones.size;
  }
}
