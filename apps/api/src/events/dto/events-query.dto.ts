import { ApiPropertyOptional } from '@nestjs/swagger';
import { PUBLIC_EVENT_TYPES } from '@wagw/contracts';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class EventsQueryDto {
  @ApiPropertyOptional({
    description: "Only this session's events (404 if the organization has no such session)",
    example: '01J9ZX8K2QHV0M3T6R7P4N5W8C',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-HJKMNP-TV-Z]{26}$/, { message: 'sessionId must be a session id' })
  sessionId?: string;

  @ApiPropertyOptional({
    description: `Comma-separated event types to receive (default: all). One of: ${PUBLIC_EVENT_TYPES.join(', ')}`,
    example: 'session.status,auth.qr',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  types?: string;

  @ApiPropertyOptional({
    description:
      'Resume after this event id (a stream position), for clients that cannot send the `Last-Event-ID` header; the header wins when both are given',
    example: '1042',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,15}$/, { message: 'lastEventId must be an event id (digits)' })
  lastEventId?: string;
}
