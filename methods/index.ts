// The method modules the daemon loads by default (daemon/daemon.ts imports this file by path).
import type { ModuleFactory } from '../daemon/registry.js';
import { coreModule } from './core.js';
import { jobsModule } from './jobs.js';
import { cronjobModule } from './cronjob.js';
import { authModule } from './auth.js';
import { userModule } from './user.js';
import { apiKeyModule } from './api_key.js';

export const modules: ModuleFactory[] = [coreModule, jobsModule, authModule, userModule, apiKeyModule, cronjobModule];
