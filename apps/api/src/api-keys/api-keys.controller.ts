import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@wagw/domain';
import { CurrentPrincipal, LoginOnly, RequireCapability } from '../auth/auth.decorators.js';
import { ApiErrors, ApiOk } from '../openapi/api-responses.decorator.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyListResponse, CreatedApiKeyResponse } from './dto/api-key.response.js';
import { CreateApiKeyDto } from './dto/create-api-key.dto.js';

@ApiTags('API keys')
@ApiBearerAuth()
@Controller('api-keys')
@LoginOnly()
@RequireCapability('manage')
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly apiKeys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key; the secret is in this response only' })
  @ApiOk(201, CreatedApiKeyResponse)
  @ApiErrors(400, 401, 403)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyResponse> {
    return this.apiKeys.create(principal, dto);
  }

  @Get()
  @ApiOperation({ summary: "List the organization's API keys (never their secrets)" })
  @ApiOk(200, ApiKeyListResponse)
  @ApiErrors(401, 403)
  list(@CurrentPrincipal() principal: Principal): Promise<ApiKeyListResponse> {
    return this.apiKeys.list(principal);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key, at once on every API replica' })
  @ApiOk(204)
  @ApiErrors(401, 403, 404)
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.apiKeys.revoke(principal, id);
  }
}
