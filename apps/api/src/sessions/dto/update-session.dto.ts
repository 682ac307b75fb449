import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

export const RATE_LIMITS = { perMinMax: 1_000, perHourMax: 60_000 } as const;

export class UpdateSessionDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 100,
    description: 'null clears the label',
  })
  @ValidateIf((_o, v) => v !== null)
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  autoRead?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  presenceTyping?: boolean;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: RATE_LIMITS.perMinMax })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(RATE_LIMITS.perMinMax)
  ratePerMin?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: RATE_LIMITS.perHourMax })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(RATE_LIMITS.perHourMax)
  ratePerHour?: number;
}
