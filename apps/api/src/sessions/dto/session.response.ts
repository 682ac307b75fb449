import { ApiProperty } from '@nestjs/swagger';
import { SESSION_STATUSES, type SessionStatus } from '@wagw/domain';
import type { SessionRecord } from '../sessions.repository.js';

/** The session resource exactly as spec/api-v1.md shows it (keys in the same order). */
export class SessionResponse {
  @ApiProperty() autoRead: boolean;
  @ApiProperty({ type: 'integer', description: 'ms since epoch', example: 1719662400000 })
  createdAt: number;
  @ApiProperty({ description: 'JWT subject, or apikey:<keyId>', example: 'user_01J9DEF' })
  createdByUserId: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Gateway worker holding the connection now',
    example: 'gw-sg-1',
  })
  gatewayId: string | null;
  @ApiProperty({ example: '01J9ZX8K2QHV0M3T6R7P4N5W8C' }) id: string;
  @ApiProperty() isAdminSession: boolean;
  @ApiProperty({ type: String, nullable: true, maxLength: 100 }) label: string | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'ms since epoch: last time the connection reached working',
  })
  lastConnectedAt: number | null;
  @ApiProperty() organizationId: string;
  @ApiProperty({ type: String, nullable: true, example: '6281234567890' }) phoneNumber:
    string | null;
  @ApiProperty() presenceTyping: boolean;
  @ApiProperty({ type: 'integer', example: 600 }) ratePerHour: number;
  @ApiProperty({ type: 'integer', example: 20 }) ratePerMin: number;
  @ApiProperty({ enum: SESSION_STATUSES }) status: SessionStatus;
  @ApiProperty({ type: 'integer', description: 'ms since epoch' }) updatedAt: number;
  @ApiProperty({ type: String, nullable: true, example: '6281234567890@s.whatsapp.net' }) waJid:
    string | null;
  @ApiProperty({ type: String, nullable: true, example: '205227043110953@lid' }) waLid:
    string | null;

  static from(s: SessionRecord): SessionResponse {
    return {
      autoRead: s.autoRead,
      createdAt: s.createdAt.getTime(),
      createdByUserId: s.createdByUserId,
      // Only a live lease means a gateway holds it; a crashed holder's id is not the truth.
      gatewayId: s.leaseLive ? s.gatewayId : null,
      id: s.id,
      isAdminSession: s.isAdminSession,
      label: s.label,
      lastConnectedAt: s.lastConnectedAt ? s.lastConnectedAt.getTime() : null,
      organizationId: s.organizationId,
      phoneNumber: s.phoneNumber,
      presenceTyping: s.presenceTyping,
      ratePerHour: s.ratePerHour,
      ratePerMin: s.ratePerMin,
      status: s.status,
      updatedAt: s.updatedAt.getTime(),
      waJid: s.waJid,
      waLid: s.waLid,
    };
  }
}

export class SessionListResponse {
  @ApiProperty({ type: [SessionResponse] }) items: SessionResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Always null: one page',
  })
  nextCursor: string | null;
}
