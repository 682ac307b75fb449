import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { validationError } from '@wagw/domain';
import { NetworkPolicy } from './network-policy.js';

const DNS_TIMEOUT_MS = 5_000;

/**
 * At creation (and on a URL change) a webhook's host must resolve to at least one address
 * deliveries may connect to. Each attempt checks again on the address it connects to, so a
 * name re-pointed later (DNS rebinding) is refused then.
 */
@Injectable()
export class WebhookUrlValidator {
  constructor(@Inject(NetworkPolicy) private readonly policy: NetworkPolicy) {}

  async assertDeliverable(url: string): Promise<void> {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const refusal = this.policy.refusal(host);
      if (refusal) throw invalidUrl(`url points to a refused address: ${refusal}`);
      return;
    }
    let addresses: { address: string }[];
    try {
      addresses = await withTimeout(lookup(host, { all: true }), DNS_TIMEOUT_MS);
    } catch {
      throw invalidUrl('url host does not resolve');
    }
    const refusals = addresses.map((a) => this.policy.refusal(a.address));
    if (refusals.every((r) => r !== null))
      throw invalidUrl(`url resolves only to refused addresses: ${refusals.join('; ')}`);
  }
}

const invalidUrl = (message: string) => validationError(message, { fields: { url: [message] } });

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('DNS timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
