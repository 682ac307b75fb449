import { Inject, Injectable, Logger } from '@nestjs/common';
import { Commands } from '@wagw/contracts';
import { notFound } from '@wagw/domain';
import type { CommandClient } from '@wagw/messaging';
import { ApiConfig } from '../config/api-config.js';
import { COMMAND_CLIENT } from '../messaging/messaging.tokens.js';
import { GatewayListResponse, GatewayResponse } from './dto/gateway.response.js';
import { GatewaysRepository } from './gateways.repository.js';

@Injectable()
export class GatewaysService {
  private readonly logger = new Logger(GatewaysService.name);

  constructor(
    @Inject(GatewaysRepository) private readonly repository: GatewaysRepository,
    @Inject(COMMAND_CLIENT) private readonly commands: CommandClient,
    @Inject(ApiConfig) private readonly config: ApiConfig,
  ) {}

  async list(): Promise<GatewayListResponse> {
    const gateways = await this.repository.listLive(this.config.GATEWAY_STALE_AFTER_MS);
    return { items: gateways.map((g) => GatewayResponse.from(g)), nextCursor: null };
  }

  /** The flag in Postgres is the truth (seen at the next heartbeat); the command makes it quick. */
  async drain(id: string): Promise<GatewayResponse> {
    const gateway = await this.repository.setDraining(id, this.config.GATEWAY_STALE_AFTER_MS);
    if (!gateway) throw notFound('gateway');
    try {
      await this.commands.request(
        Commands.drain,
        {},
        { gatewayId: id, timeoutMs: this.config.COMMAND_TIMEOUT_MS },
      );
    } catch (error) {
      this.logger.warn(
        `drain of ${id} not confirmed (${(error as Error).message}); its next heartbeat applies it`,
      );
    }
    return GatewayResponse.from(gateway);
  }
}
