import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

const TEXT_MAX = 65_536;

export class MediaDto {
  @ApiPropertyOptional({ description: 'http(s) URL the API fetches the media from' })
  @IsOptional()
  @IsString()
  @Length(1, 2_048)
  url?: string;

  @ApiPropertyOptional({ description: 'The media bytes, base64' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  base64?: string;

  @ApiProperty({ example: 'image/jpeg' })
  @IsString()
  @Length(3, 255)
  mimetype!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 255)
  filename?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(TEXT_MAX)
  caption?: string;
}

export class LocationDto {
  @ApiProperty({ minimum: -90, maximum: 90 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  latitude!: number;

  @ApiProperty({ minimum: -180, maximum: 180 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  longitude!: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 1_000)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 1_000)
  address?: string;
}

export class ContactDto {
  @ApiProperty({ example: 'Jane Doe' })
  @IsString()
  @Length(1, 1_000)
  displayName!: string;

  @ApiProperty({
    description: 'vCard 3.0 text',
    example:
      'BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nTEL;type=CELL;waid=6281234567890:+62 812 3456 7890\nEND:VCARD',
  })
  @IsString()
  @Length(1, TEXT_MAX)
  vcard!: string;
}

export class ReactionDto {
  @ApiProperty({ description: 'The id of the message reacted to' })
  @IsString()
  @Length(1, 128)
  messageId!: string;

  @ApiProperty({ description: 'One emoji; "" removes the reaction', example: '👍' })
  @IsString()
  @MaxLength(32)
  emoji!: string;
}

/** Contents a message may carry: exactly one of them per message. */
export const CONTENT_FIELDS = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'location',
  'contact',
  'reaction',
] as const;

export class SendMessageDto {
  @ApiProperty({
    description: 'Phone digits with country code (an optional leading +), or a JID',
    example: '6281234567890',
  })
  @IsString()
  @Length(1, 256)
  to!: string;

  @ApiPropertyOptional({ maxLength: TEXT_MAX })
  @IsOptional()
  @IsString()
  @Length(1, TEXT_MAX)
  text?: string;

  @ApiPropertyOptional({ type: MediaDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MediaDto)
  image?: MediaDto;

  @ApiPropertyOptional({ type: MediaDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MediaDto)
  video?: MediaDto;

  @ApiPropertyOptional({ type: MediaDto, description: 'Sent as a voice note' })
  @IsOptional()
  @ValidateNested()
  @Type(() => MediaDto)
  audio?: MediaDto;

  @ApiPropertyOptional({ type: MediaDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MediaDto)
  document?: MediaDto;

  @ApiPropertyOptional({ type: LocationDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => LocationDto)
  location?: LocationDto;

  @ApiPropertyOptional({ type: ContactDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ContactDto)
  contact?: ContactDto;

  @ApiPropertyOptional({ type: ReactionDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ReactionDto)
  reaction?: ReactionDto;

  @ApiPropertyOptional({ description: 'Id of a message of the same chat to quote' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  replyTo?: string;

  @ApiPropertyOptional({ type: [String], description: 'JIDs (or phone digits) to mention' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1_024)
  @IsString({ each: true })
  @Length(1, 256, { each: true })
  mentions?: string[];
}
