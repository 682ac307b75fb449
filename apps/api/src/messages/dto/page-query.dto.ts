import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

/** `limit` 1–200 (default 50) and the opaque `cursor` of stored-message lists. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,6}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: "Opaque; the previous page's nextCursor" })
  @IsOptional()
  @IsString()
  @Length(1, 1_000)
  cursor?: string;
}

export class CreateChannelDto {
  @ApiPropertyOptional({ description: 'Accepted and ignored in v1' })
  @IsOptional()
  @IsString()
  @Length(1, 1_000)
  name?: string;

  @ApiPropertyOptional({ description: 'Accepted and ignored in v1' })
  @IsOptional()
  @IsString()
  @Length(0, 10_000)
  description?: string;
}
