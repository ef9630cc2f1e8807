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
import { makeAlertModule } from './alert.js';
import { makeWebhookModule } from './webhook.js';
// Fleet mode (docs/fleet.md): registers nothing unless --fleet-url is set.
import { fleetModule } from './fleet-host/index.js';
import { storageModule } from './storage/index.js';
// The host (issue 17): system facts and debug bundle, reporting, interfaces, /metrics, web shell.
import { systemHostModule } from './system-host/index.js';
import { reportingModule } from './reporting/index.js';
import { interfaceModule } from './interface/index.js';
import { metricsModule } from './metrics/index.js';
import { shellModule } from './shell/index.js';

export const modules: ModuleFactory[] = [coreModule, jobsModule, authModule, userModule, apiKeyModule, cronjobModule];
modules.push(twoFactorModule, systemSettingsModule, truenasModule, serviceModule, makeAlertModule(), makeWebhookModule());
modules.push(storageModule);
modules.push(systemHostModule, reportingModule, interfaceModule, metricsModule, shellModule);
modules.push(fleetModule);
