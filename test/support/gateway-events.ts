import type { AnyGatewayEvent, EventFence, SessionState } from '@wagw/contracts';
import { newId } from '@wagw/domain';

export interface StatusEventOptions {
  organizationId: string;
  sessionId: string;
  fence: EventFence;
  /** The holder's view; by default `working`, paired to a number, on `fence.gatewayId`. */
  state?: Partial<SessionState>;
}

/**
 * A `session.status` event as a gateway publishes it: the fence says who sent it, `state` is
 * the session's whole state as that sender claims it. Tests use it both as the real holder's
 * and as a forgery.
 */
export function statusEvent(options: StatusEventOptions): AnyGatewayEvent {
  const state: SessionState = {
    status: 'working',
    gatewayId: options.fence.gatewayId,
    reason: null,
    phoneNumber: '6281234567890',
    waJid: '6281234567890@s.whatsapp.net',
    waLid: null,
    qr: null,
    qrExpiresAt: null,
    lastConnectedAt: Date.now(),
    ...options.state,
  };
  return {
    id: newId(),
    type: 'session.status',
    organizationId: options.organizationId,
    sessionId: options.sessionId,
    occurredAt: Date.now(),
    data: { status: state.status, gatewayId: state.gatewayId, reason: state.reason },
    fence: options.fence,
    state,
  };
}
