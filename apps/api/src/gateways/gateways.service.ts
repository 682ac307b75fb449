import { Inject, Injectable } from '@nestjs/common';
import { Commands } from '@wagw/contracts';
import { notFound } from '@wagw/domain';
import { ApiConfig } from '../config/api-config.js';
import { FleetCommands } from '../fleet/fleet-commands.service.js';
import { GatewayListResponse, GatewayResponse } from './dto/gateway.response.js';
import { GatewaysRepository } from './gateways.repository.js';

@Injectable()
export class GatewaysService {
  constructor(
    @Inject(GatewaysRepository) private readonly repository: GatewaysRepository,
    @Inject(FleetCommands) private readonly fleet: FleetCommands,
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
    // Best effort: its next heartbeat applies the flag if the command is lost.
    await this.fleet.tell(Commands.drain, {}, { gatewayId: id });
    return GatewayResponse.from(gateway);
  }
}
