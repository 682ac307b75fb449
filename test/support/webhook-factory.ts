import { newId } from '@wagw/domain';
import type { DataSource } from 'typeorm';

/**
 * Inserts a delivery of `webhookId` as the queue would hold it, in `status` (`failed`: a dead
 * letter after `attempts` attempts). For tests of the deliveries routes without a receiver.
 */
export async function newWebhookDelivery(
  dataSource: DataSource,
  organizationId: string,
  webhookId: string,
  status: 'pending' | 'delivered' | 'failed' = 'failed',
): Promise<string> {
  const id = newId();
  const event = { id: newId(), type: 'session.status', organizationId, sessionId: null };
  await dataSource.query(
    `INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event_id, event_type,
       session_id, order_key, stream_seq, payload, status, attempts, next_attempt_at,
       last_attempt_at, last_status_code, last_error, last_latency_ms, created_at, delivered_at)
     VALUES ($1, $2, $3, $4, 'session.status', NULL, '', 1, $5, $6, 3,
             now() + interval '1 hour', now(), 500, 'HTTP 500', 12, now(),
             CASE WHEN $6 = 'delivered' THEN now() END)`,
    [id, webhookId, organizationId, event.id, JSON.stringify(event), status],
  );
  return id;
}
