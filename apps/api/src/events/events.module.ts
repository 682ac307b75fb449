import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { EventHub } from './event-hub.service.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';
import { SessionEventsFolder } from './session-events.folder.js';
import { StreamCredentials } from './stream-credentials.js';

@Module({
  imports: [SessionsModule, MessagesModule],
  controllers: [EventsController],
  providers: [SessionEventsFolder, EventHub, EventsService, StreamCredentials],
})
export class EventsModule {}
