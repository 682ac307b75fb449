import type { AnyGatewayEvent, EventDataMap, EventType, SessionState } from '@wagw/contracts';
import { newId } from '@wagw/domain';

/** Builds events for one held session: (epoch, seq) orders them across owners for the fold. */
export class SessionEventFactory {
  private seq = 0;

  constructor(
    private readonly gatewayId: string,
    private readonly organizationId: string,
    private readonly sessionId: string,
    private readonly epoch: number,
  ) {}

  create<T extends EventType>(
    type: T,
    data: EventDataMap[T],
    state: SessionState,
  ): AnyGatewayEvent {
    this.seq += 1;
    return {
      id: newId(),
      type,
      organizationId: this.organizationId,
      sessionId: this.sessionId,
      occurredAt: Date.now(),
      data,
      fence: { gatewayId: this.gatewayId, epoch: this.epoch, seq: this.seq },
      state,
    } as AnyGatewayEvent;
  }
}
