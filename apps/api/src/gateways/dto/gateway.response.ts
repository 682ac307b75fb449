import { ApiProperty } from '@nestjs/swagger';
import type { GatewayEntity } from '@wagw/persistence';

export class GatewayResponse {
  @ApiProperty({ example: 'gw-sg-1' }) id: string;
  @ApiProperty({ description: 'Most sessions it will hold' }) capacity: number;
  @ApiProperty() sessionsHeld: number;
  @ApiProperty({ description: 'Handing its sessions to peers and claiming no more' })
  draining: boolean;
  @ApiProperty({ description: 'ms since epoch' }) startedAt: number;
  @ApiProperty({ description: 'ms since epoch' }) lastSeenAt: number;

  static from(g: GatewayEntity): GatewayResponse {
    return {
      capacity: g.capacity,
      draining: g.draining,
      id: g.id,
      lastSeenAt: g.lastSeenAt.getTime(),
      sessionsHeld: g.sessionsHeld,
      startedAt: g.startedAt.getTime(),
    };
  }
}

export class GatewayListResponse {
  @ApiProperty({ type: [GatewayResponse] }) items: GatewayResponse[];
  @ApiProperty({ type: String, nullable: true, example: null }) nextCursor: string | null;
}
