import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@wagw/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { CurrentPrincipal, RequireCapability } from '../auth/auth.decorators.js';
import { customMethod } from '../common/custom-methods.js';
import { ApiErrors, ApiOk } from '../openapi/api-responses.decorator.js';
import { CreateSessionDto } from './dto/create-session.dto.js';
import { PairingCodeRequestDto, PairingCodeResponse, QrResponse } from './dto/pairing-code.dto.js';
import { SessionListResponse, SessionResponse } from './dto/session.response.js';
import { UpdateSessionDto } from './dto/update-session.dto.js';
import { negotiateQrType } from './qr-representation.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('Sessions')
@ApiBearerAuth()
@Controller('sessions')
@RequireCapability('manage')
export class SessionsController {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SessionLifecycleService) private readonly lifecycle: SessionLifecycleService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a session (one WhatsApp number slot); not idempotent' })
  @ApiOk(201, SessionResponse)
  @ApiErrors(400, 401, 403, 413, 429)
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
    summary: 'Delete a session: unlink the device if paired, delete its auth state, remove the row',
  })
  @ApiOk(204)
  @ApiErrors(401, 403, 404, 503)
  delete(@CurrentPrincipal() principal: Principal, @Param('session') id: string): Promise<void> {
    return this.lifecycle.delete(principal, id);
  }

  @Post(customMethod('session', 'start'))
  @HttpCode(200)
  @ApiOperation({ summary: 'Connect an already-paired session; async and idempotent' })
  @ApiOk(200, SessionResponse)
  @ApiErrors(401, 403, 404, 409, 503)
  start(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
  ): Promise<SessionResponse> {
    return this.lifecycle.start(principal, id);
  }

  @Post(customMethod('session', 'stop'))
  @HttpCode(200)
  @ApiOperation({ summary: 'Disconnect, keeping the pairing; idempotent' })
  @ApiOk(200, SessionResponse)
  @ApiErrors(401, 403, 404)
  stop(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
  ): Promise<SessionResponse> {
    return this.lifecycle.stop(principal, id);
  }

  @Post(customMethod('session', 'restart'))
  @HttpCode(200)
  @ApiOperation({ summary: 'Reconnect, keeping the pairing; async' })
  @ApiOk(200, SessionResponse)
  @ApiErrors(401, 403, 404, 409, 503)
  restart(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
  ): Promise<SessionResponse> {
    return this.lifecycle.restart(principal, id);
  }

  @Post(customMethod('session', 'logout'))
  @HttpCode(200)
  @ApiOperation({ summary: 'Unlink the device; the row stays, unpaired. Idempotent, destructive' })
  @ApiOk(200, SessionResponse)
  @ApiErrors(401, 403, 404, 503)
  logout(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
  ): Promise<SessionResponse> {
    return this.lifecycle.logout(principal, id);
  }

  @Get(':session/qr')
  @ApiOperation({
    summary:
      'The current QR code (JSON, or PNG with Accept: image/png); starts QR pairing if needed',
  })
  @ApiProduces('application/json', 'image/png')
  @ApiOk(200, QrResponse)
  @ApiErrors(401, 403, 404, 406, 409, 429, 503)
  async qr(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Headers('accept') accept: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<QrResponse | Buffer> {
    void reply.header('vary', 'Accept').header('cache-control', 'no-store');
    const type = negotiateQrType(accept);
    // HEAD reports the current QR code without starting a pairing.
    const qr = await this.lifecycle.qr(principal, id, { startPairing: request.method !== 'HEAD' });
    if (type === 'application/json') return qr;
    void reply.header('content-type', 'image/png').header('x-qr-expires-at', String(qr.expiresAt));
    return QRCode.toBuffer(qr.qr, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 });
  }

  @Post(':session/pairing-code')
  @HttpCode(200)
  @ApiOperation({ summary: 'Request a phone pairing code for this number' })
  @ApiOk(200, PairingCodeResponse)
  @ApiErrors(400, 401, 403, 404, 409, 413, 429, 503)
  pairingCode(
    @CurrentPrincipal() principal: Principal,
    @Param('session') id: string,
    @Body() dto: PairingCodeRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PairingCodeResponse> {
    void reply.header('cache-control', 'no-store');
    return this.lifecycle.pairingCode(principal, id, dto.phoneNumber);
  }
}
