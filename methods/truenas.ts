// The appliance-level calls the TrueNAS web UI makes after signing in, answered for a Midship host:
// not iX hardware, no HA (failover.*), no TrueCommand or TrueNAS Connect (both disabled, with their
// change events declared so the UI can subscribe), no update source (update.status: this version,
// nothing newer to offer), and the dashboard's system card (webui.main.dashboard.sys_info).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname, uptime } from 'node:os';
import { method, type App, type ModuleDef } from '#midship/module-api';
import { FailoverReasons, FailoverStatus, Flag, SysInfo, TrueNASConnectEntry, TruecommandEntry, UpdateStatus } from '../schemas/truenas.js';

/** Midship's version, from its package.json (dist/methods/ -> the project root). */
function midshipVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The machine's serial number where the kernel shows it (DMI; readable by root), else empty. */
async function systemSerial(): Promise<string> {
  const serial = await readFile('/sys/class/dmi/id/product_serial', 'utf8').catch(() => '');
  return serial.trim();
}

// TrueNAS Connect as a TrueNAS system reads it before it is ever enabled (its service URLs are the
// product's own defaults; Midship never contacts them).
const TN_CONNECT = {
  id: 1,
  enabled: false,
  registration_details: {},
  status: 'DISABLED',
  status_reason: 'TrueNAS Connect is disabled',
  certificate: null,
  account_service_base_url: 'https://account-service.tys1.truenasconnect.net/',
  leca_service_base_url: 'https://dns-service.tys1.truenasconnect.net/',
  tnc_base_url: 'https://web.truenasconnect.net/',
  heartbeat_url: 'https://heartbeat-service.tys1.truenasconnect.net/',
  tier: null,
  last_heartbeat_failure_datetime: null,
};

const TRUECOMMAND = {
  id: 1,
  api_key: null,
  status: 'DISABLED' as const,
  status_reason: 'Truecommand service is disabled.',
  remote_url: null,
  remote_ip_address: null,
  enabled: false,
};

export function truenasModule(_app: App): ModuleDef {
  const version = midshipVersion();
  return {
    services: [
      { name: 'truenas', type: 'service', cliDescription: 'What kind of system this is' },
      { name: 'failover', type: 'config', rolePrefix: 'FAILOVER', cliDescription: 'High availability (none: Midship is a single node)' },
      { name: 'failover.disabled', type: 'service', rolePrefix: 'FAILOVER' },
      { name: 'update', type: 'config', rolePrefix: 'SYSTEM_UPDATE', cliDescription: 'Software updates (none offered: Midship is updated as it was installed)' },
      { name: 'webui.main.dashboard', type: 'service', cliDescription: 'The web UI dashboard\'s system card' },
      { name: 'tn_connect', type: 'config', rolePrefix: 'TRUENAS_CONNECT', cliDescription: 'TrueNAS Connect (disabled)' },
      { name: 'truecommand', type: 'config', rolePrefix: 'TRUECOMMAND', cliDescription: 'TrueCommand (disabled)' },
    ],
    methods: [
      method('truenas.is_ix_hardware', {
        description: 'false: Midship runs on any Linux host, not on iXsystems hardware.',
        args: [],
        result: Flag,
        roles: ['READONLY_ADMIN'],
        handler: () => false,
      }),
      method('truenas.managed_by_truecommand', {
        description: 'false: TrueCommand is disabled (truecommand.config). No login needed.',
        args: [],
        result: Flag,
        noAuth: true,
        handler: () => TRUECOMMAND.enabled,
      }),
      method('failover.licensed', {
        description: 'false: Midship is a single node, not a high-availability pair.',
        args: [],
        result: Flag,
        authOnly: true,
        handler: () => false,
      }),
      method('failover.status', {
        description: 'SINGLE: a node without a high-availability peer.',
        args: [],
        result: FailoverStatus,
        roles: ['FAILOVER_READ'],
        handler: () => 'SINGLE',
      }),
      method('failover.disabled.reasons', {
        description: 'Why failover is not working: none on a single node.',
        args: [],
        result: FailoverReasons,
        roles: ['FAILOVER_READ'],
        handler: () => [],
      }),
      method('update.status', {
        description: `This version and no update source: Midship is updated as it was installed (npm), so nothing newer is offered here.`,
        args: [],
        result: UpdateStatus,
        roles: ['SYSTEM_UPDATE_READ'],
        handler: () => ({
          code: 'NORMAL' as const,
          status: { current_version: { train: `Midship ${version}`, profile: 'GENERAL', matches_profile: true }, new_version: null },
          error: null,
          update_download_progress: null,
        }),
      }),
      method('webui.main.dashboard.sys_info', {
        description: 'The dashboard\'s system card: platform (Generic), Midship\'s version, the host name, serial number (when the kernel shows it), uptime of the host and the time now; no license, no HA peer.',
        args: [],
        result: SysInfo,
        roles: ['READONLY_ADMIN'],
        handler: async () => ({
          platform: 'Generic',
          version: `Midship-${version}`,
          license: null,
          system_serial: await systemSerial(),
          hostname: hostname(),
          uptime_seconds: uptime(),
          datetime: { $date: Math.floor(Date.now() / 1000) * 1000 },
          remote_info: null,
        }),
      }),
      method('tn_connect.config', {
        description: 'TrueNAS Connect: disabled (Midship does not connect to it).',
        args: [],
        result: TrueNASConnectEntry,
        handler: () => TN_CONNECT,
      }),
      method('truecommand.config', {
        description: 'TrueCommand: disabled (Midship does not connect to it).',
        args: [],
        result: TruecommandEntry,
        handler: () => TRUECOMMAND,
      }),
    ],
    events: [
      { name: 'failover.status', description: 'The failover status changed (never: a single node).', roles: ['FAILOVER_READ'] },
      { name: 'failover.disabled.reasons', description: 'Why failover is disabled changed (never: a single node).', roles: ['FAILOVER_READ'] },
      { name: 'update.status', description: 'The update status changed (never: no update source).', roles: ['SYSTEM_UPDATE_READ'] },
      { name: 'tn_connect.config', description: 'TrueNAS Connect settings changed (never: disabled).', roles: ['TRUENAS_CONNECT_READ'] },
      { name: 'truecommand.config', description: 'TrueCommand settings changed (never: disabled).', roles: ['TRUECOMMAND_READ'] },
    ],
  };
}
