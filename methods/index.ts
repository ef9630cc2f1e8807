// The method modules midshipd loads (daemon/main.ts hands this list to the Daemon; MIDSHIP_MODULES
// names a file exporting another list).
import type { ModuleFactory } from '#midship/module-api';
import { coreModule } from './core.js';
import { jobsModule } from './jobs.js';
import { cronjobModule } from './cronjob.js';
import { authModule } from './auth.js';
import { userModule } from './user.js';
import { apiKeyModule } from './api_key.js';
// The calls the TrueNAS web UI makes besides those above (issue 20).
import { twoFactorModule } from './auth/two-factor.js';
import { systemSettingsModule } from './system_settings.js';
import { truenasModule } from './truenas.js';
import { serviceModule } from './service.js';
import { alertModule } from './alert.js';
// Fleet mode (docs/fleet.md): registers nothing unless --fleet-url is set.
import { fleetModule } from './fleet-host/index.js';

export const modules: ModuleFactory[] = [coreModule, jobsModule, authModule, userModule, apiKeyModule, cronjobModule];
modules.push(twoFactorModule, systemSettingsModule, truenasModule, serviceModule, alertModule);
modules.push(fleetModule);
