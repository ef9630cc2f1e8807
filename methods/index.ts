// The method modules midshipd loads (daemon/main.ts hands this list to the Daemon; MIDSHIP_MODULES
// names a file exporting another list).
import type { ModuleFactory } from '#midship/module-api';
import { coreModule } from './core.js';
import { jobsModule } from './jobs.js';
import { cronjobModule } from './cronjob.js';
import { authModule } from './auth.js';
import { userModule } from './user.js';
import { apiKeyModule } from './api_key.js';
import { storageModule } from './storage/index.js';

export const modules: ModuleFactory[] = [coreModule, jobsModule, authModule, userModule, apiKeyModule, cronjobModule,
  storageModule,
];
