import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/auth.decorators.js';
import { customMethod } from '../common/custom-methods.js';
import { ApiErrors, ApiOk } from '../openapi/api-responses.decorator.js';
import { GatewayListResponse, GatewayResponse } from './dto/gateway.response.js';
import { GatewaysService } from './gateways.service.js';

@ApiTags('Gateways (platform admin)')
@ApiBearerAuth()
@Controller('gateways')
@RequireCapability('admin')
export class GatewaysController {
  constructor(@Inject(GatewaysService) private readonly gateways: GatewaysService) {}

  @Get()
  @ApiOperation({ summary: 'Live gateway workers, their capacity and the sessions they hold' })
  @ApiOk(200, GatewayListResponse)
  @ApiErrors(401, 403)
  list(): Promise<GatewayListResponse> {
    return this.gateways.list();
  }

  @Post(customMethod('id', 'drain'))
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand every session of this gateway to its peers; it claims no more' })
  @ApiOk(200, GatewayResponse)
  @ApiErrors(401, 403, 404)
  drain(@Param('id') id: string): Promise<GatewayResponse> {
    return this.gateways.drain(id);
  }
}
