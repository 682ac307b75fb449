import { Global, Module } from '@nestjs/common';
import { FleetCommands } from './fleet-commands.service.js';

/** The seam to the gateway fleet, shared by sessions, gateways and messages. */
@Global()
@Module({ providers: [FleetCommands], exports: [FleetCommands] })
export class FleetModule {}
