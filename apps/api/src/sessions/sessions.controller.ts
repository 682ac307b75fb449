import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@wagw/domain';
import { CurrentPrincipal, RequireCapability } from '../auth/auth.decorators.js';
import { ApiErrors, ApiOk } from '../openapi/api-responses.decorator.js';
import { CreateSessionDto } from './dto/create-session.dto.js';
import { SessionListResponse, SessionResponse } from './dto/session.response.js';
import { UpdateSessionDto } from './dto/update-session.dto.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('Sessions')
@ApiBearerAuth()
@Controller('sessions')
@RequireCapability('manage')
export class SessionsController {
  constructor(@Inject(SessionsService) private readonly sessions: SessionsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a session (one WhatsApp number slot); not idempotent' })
  @ApiOk(201, SessionResponse)
  @ApiErrors(400, 401, 403, 413)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateSessionDto,
  ): Promise<SessionResponse> {
    return this.sessions.create(principal, dto);
  }

  @Get()
  @ApiOperation({ summary: "List the organization's sessions (one page)" })
  @ApiOk(200, SessionListResponse)
  @ApiErrors(401, 403)
  list(@CurrentPrincipal() principal: Principal): Promise<SessionListResponse> {
    return this.sessions.list(principal);
  }

  @Get(':session')
  @ApiOperation({ summary: 'Get a session' })
  @ApiOk(200, SessionResponse)
  @ApiErrors(401, 403, 404)
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
  ): Promise<SessionResponse> {
    return this.sessions.get(principal, id);
  }

  @Patch(':session')
  @ApiOperation({ summary: 'Change settings; a running session picks them up without a restart' })
  @ApiOk(200, SessionResponse)
  @ApiErrors(400, 401, 403, 404, 413)
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Body() dto: UpdateSessionDto,
  ): Promise<SessionResponse> {
    return this.sessions.update(principal, id, dto);
  }

  @Delete(':session')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a session: unlink the device, delete its auth state, remove the row',
  })
  @ApiOk(204)
  @ApiErrors(401, 403, 404)
  delete(@CurrentPrincipal() principal: Principal, @Param('session') id: string): Promise<void> {
    return this.sessions.delete(principal, id);
  }
}
