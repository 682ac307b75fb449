import { Inject, Injectable } from '@nestjs/common';
import { newId, notFound, type Principal, rateLimited, SESSION_DEFAULTS } from '@wagw/domain';
import { SessionEntity } from '@wagw/persistence';
import { ApiConfig } from '../config/api-config.js';
import type { CreateSessionDto } from './dto/create-session.dto.js';
import { SessionListResponse, SessionResponse } from './dto/session.response.js';
import type { UpdateSessionDto } from './dto/update-session.dto.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { SessionsRepository } from './sessions.repository.js';

@Injectable()
export class SessionsService {
  constructor(
    @Inject(SessionsRepository) private readonly repository: SessionsRepository,
    @Inject(SessionLifecycleService) private readonly lifecycle: SessionLifecycleService,
    @Inject(ApiConfig) private readonly config: ApiConfig,
  ) {}

  async create(principal: Principal, dto: CreateSessionDto): Promise<SessionResponse> {
    const now = new Date();
    const session = Object.assign(new SessionEntity(), {
      leaseLive: false,
      id: newId(),
      organizationId: principal.organizationId,
      label: dto.label ?? null,
      autoRead: dto.autoRead ?? SESSION_DEFAULTS.autoRead,
      presenceTyping: dto.presenceTyping ?? SESSION_DEFAULTS.presenceTyping,
      ratePerMin: SESSION_DEFAULTS.ratePerMin,
      ratePerHour: SESSION_DEFAULTS.ratePerHour,
      // `start: true` records the wish to run; a gateway worker claims it and drives the status.
      desiredState: dto.start ? 'running' : 'stopped',
      status: dto.start ? 'starting' : 'stopped',
      isAdminSession: false,
      phoneNumber: null,
      waJid: null,
      waLid: null,
      gatewayId: null,
      lastConnectedAt: null,
      ownerId: null,
      epoch: 0,
      leaseExpiresAt: null,
      qr: null,
      qrExpiresAt: null,
      statusReason: null,
      statusEpoch: 0,
      statusSeq: 0,
      createdByUserId: principal.actorId,
      createdAt: now,
      updatedAt: now,
    });
    const refusal = await this.repository.insertWithinQuota(session, {
      maxSessions: this.config.ORG_MAX_SESSIONS,
      maxPairing: this.config.ORG_MAX_PAIRING,
    });
    if (refusal === 'session_quota') {
      throw rateLimited(
        `the organization has reached its limit of ${this.config.ORG_MAX_SESSIONS} sessions`,
        { reason: refusal, limit: this.config.ORG_MAX_SESSIONS },
      );
    }
    if (refusal === 'pairing_quota') throw this.lifecycle.pairingQuotaError();
    if (dto.start) this.lifecycle.nudgeClaim(session.id);
    return SessionResponse.from(session);
  }

  async list(principal: Principal): Promise<SessionListResponse> {
    const sessions = await this.repository.list(principal.organizationId);
    return { items: sessions.map((s) => SessionResponse.from(s)), nextCursor: null };
  }

  async get(principal: Principal, id: string): Promise<SessionResponse> {
    const session = await this.repository.findOne(principal.organizationId, id);
    if (!session) throw notFound('session');
    return SessionResponse.from(session);
  }

  async update(principal: Principal, id: string, dto: UpdateSessionDto): Promise<SessionResponse> {
    const session = await this.repository.update(principal.organizationId, id, dto);
    if (!session) throw notFound('session');
    this.lifecycle.nudgeSettings(session);
    return SessionResponse.from(session);
  }
}
