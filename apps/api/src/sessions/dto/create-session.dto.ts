import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateSessionDto {
  @ApiPropertyOptional({ maxLength: 100, example: 'Support line' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ description: 'Mark incoming messages as read', default: false })
  @IsOptional()
  @IsBoolean()
  autoRead?: boolean;

  @ApiPropertyOptional({ description: 'Show "typing…" before sending a text', default: false })
  @IsOptional()
  @IsBoolean()
  presenceTyping?: boolean;

  @ApiPropertyOptional({ description: 'Begin QR pairing at once', default: false })
  @IsOptional()
  @IsBoolean()
  start?: boolean;
}
