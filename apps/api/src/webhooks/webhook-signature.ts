import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Standard Webhooks secrets: `whsec_` + base64 of random bytes (24–64 allowed; we use 32). */
export const generateWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The Standard Webhooks headers of one delivery: `webhook-signature` holds one `v1,<sig>` per
 * secret (space-separated), so during a rotation's grace period a receiver verifying with
 * either the new or the old secret accepts it.
 */
export function signedHeaders(
  messageId: string,
  timestamp: Date,
  body: string,
  secrets: readonly string[],
): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': secrets
      .map((s) => new Webhook(s).sign(messageId, timestamp, body))
      .join(' '),
  };
}
