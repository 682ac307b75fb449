import { Module } from '@nestjs/common';
import { SessionFoldRepository } from './session-fold.repository.js';
import { SessionLifecycleService } from './session-lifecycle.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService, SessionLifecycleService, SessionFoldRepository],
  exports: [SessionFoldRepository, SessionsRepository],
})
export class SessionsModule {}
