import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODES, type ErrorCode } from '@wagw/domain';

export class ErrorBody {
  @ApiProperty({ enum: ERROR_CODES, example: 'not_found' }) code: ErrorCode;
  @ApiProperty({ example: 'session not found' }) message: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: {} }) details: Record<
    string,
    unknown
  >;
}

export class ErrorEnvelopeSchema {
  @ApiProperty({ type: ErrorBody }) error: ErrorBody;
}
