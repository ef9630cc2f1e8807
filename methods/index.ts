// The method modules midshipd loads (daemon/main.ts hands this list to the Daemon; MIDSHIP_MODULES
// names a file exporting another list).
import type { ModuleFactory } from '#midship/module-api';
import { coreModule } from './core.js';
import { jobsModule } from './jobs.js';
import { cronjobModule } from './cronjob.js';
import { authModule } from './auth.js';
import { userModule } from './user.js';
import { apiKeyModule } from './api_key.js';
import { systemHostModule } from './system-host/index.js';
import { reportingModule } from './reporting/index.js';
import { interfaceModule } from './interface/index.js';
import { metricsModule } from './metrics/index.js';
import { shellModule } from './shell/index.js';

export const modules: ModuleFactory[] = [coreModule, jobsModule, authModule, userModule, apiKeyModule, cronjobModule];
// The host (issue 17): system facts and debug bundle, reporting, interfaces, /metrics, web shell.
modules.push(systemHostModule, reportingModule, interfaceModule, metricsModule, shellModule);
