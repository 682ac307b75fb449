import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_CAPABILITIES, type Capability } from '@wagw/domain';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  Length,
} from 'class-validator';

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'billing backend' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiProperty({ enum: API_KEY_CAPABILITIES, isArray: true, example: ['manage', 'send'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_KEY_CAPABILITIES.length)
  @ArrayUnique()
  @IsIn(API_KEY_CAPABILITIES, { each: true })
  capabilities: Capability[];
}
