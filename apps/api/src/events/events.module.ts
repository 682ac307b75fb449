import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module.js';
import { SessionEventsFolder } from './session-events.folder.js';

@Module({ imports: [SessionsModule], providers: [SessionEventsFolder] })
export class EventsModule {}
