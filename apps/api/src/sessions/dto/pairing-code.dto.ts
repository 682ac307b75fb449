import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class PairingCodeRequestDto {
  @ApiProperty({
    description: 'Digits with country code, no +',
    example: '6281234567890',
    pattern: '^[1-9][0-9]{6,14}$',
  })
  @Matches(/^[1-9]\d{6,14}$/, {
    message: 'phoneNumber must be 7-15 digits with the country code, no +',
  })
  phoneNumber: string;
}

export class PairingCodeResponse {
  @ApiProperty({ example: 'ABCD-EFGH' }) code: string;
  @ApiProperty({ description: 'ms since epoch' }) expiresAt: number;
}

export class QrResponse {
  @ApiProperty({ description: 'The raw QR payload; render it, or ask for Accept: image/png' })
  qr: string;
  @ApiProperty({ description: 'ms since epoch' }) expiresAt: number;
}
