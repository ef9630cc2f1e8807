// system.general.config, system.advanced.{config,update,login_banner}, system.reboot.info and
// system.product_type: what the TrueNAS web UI reads before and right after signing in, answered
// with this daemon's own values. Host features Midship does not manage (serial console, kdump,
// syslog forwarding, GPU isolation, ...) read as TrueNAS reads them when they are off; the one
// setting kept here is the login banner.
import { arg, ERRNO, method, Slots, ValidationErrors, type App, type ModuleDef } from '#midship/module-api';
import { LoginBanner, ProductType, RebootInfo, SystemAdvancedEntry, SystemAdvancedUpdate, SystemGeneralEntry, type SystemAdvancedEntryT, type SystemGeneralEntryT } from '../schemas/system_settings.js';

interface Stored {
  login_banner: string;
}

const SETTINGS_KEY = 'advanced';

/** TrueNAS's answer for each field of system.advanced that Midship leaves to the host. */
const UNMANAGED: Omit<SystemAdvancedEntryT, 'id' | 'login_banner'> = {
  advancedmode: false,
  autotune: false,
  kdump_enabled: false,
  boot_scrub: 7,
  consolemenu: false,
  consolemsg: false,
  debugkernel: false,
  fqdn_syslog: false,
  motd: '',
  powerdaemon: false,
  serialconsole: false,
  serialport: 'ttyS0',
  anonstats_token: '',
  serialspeed: '9600',
  overprovision: null,
  traceback: false,
  uploadcrash: false,
  anonstats: false,
  sed_user: 'USER',
  sysloglevel: 'F_INFO',
  syslogservers: [],
  syslog_audit: false,
  isolated_gpu_pci_ids: [],
  kernel_extra_options: '',
  nvidia: false,
};

function isIPv4(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

export function systemSettingsModule(app: App): ModuleDef {
  const db = app.sublevel<Stored>('system_settings');
  let stored: Stored = { login_banner: '' };
  const writes = new Slots(1);

  const general = (): SystemGeneralEntryT => {
    const host = app.config.host;
    return {
      id: 1,
      // Midship serves plain HTTP (put a TLS proxy in front for HTTPS): no certificate, no redirect.
      ui_certificate: null,
      ui_httpsport: 443,
      ui_httpsredirect: false,
      ui_httpsprotocols: ['TLSv1.2', 'TLSv1.3'],
      ui_port: app.config.port,
      ui_address: [isIPv4(host) ? host : '0.0.0.0'],
      ui_v6address: [isIPv4(host) ? '::' : host],
      // Midship limits browsers by origin (--allowed-origins), not by address.
      ui_allowlist: [],
      ui_consolemsg: false,
      ui_x_frame_options: 'DENY',
      kbdmap: '',
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      usage_collection: false,
      wizardshown: true,
      usage_collection_is_set: true,
      ds_auth: false,
      ui_certificate_name: null,
    };
  };

  const advanced = (): SystemAdvancedEntryT => ({ id: 1, ...UNMANAGED, login_banner: stored.login_banner });

  return {
    services: [
      { name: 'system.general', type: 'config', rolePrefix: 'SYSTEM_GENERAL', cliDescription: 'General settings of the web UI (read only: they come from midshipd\'s flags)' },
      { name: 'system.advanced', type: 'config', rolePrefix: 'SYSTEM_ADVANCED', cliDescription: 'Advanced settings: the login banner' },
    ],
    methods: [
      method('system.general.config', {
        description: 'General settings as TrueNAS names them, from this daemon: listen address and port, the host\'s time zone; no HTTPS (Midship serves plain HTTP), no usage collection.',
        args: [],
        result: SystemGeneralEntry,
        handler: () => general(),
      }),
      method('system.advanced.config', {
        description: 'Advanced settings as TrueNAS names them: login_banner is Midship\'s; the host features Midship does not manage read as off.',
        args: [],
        result: SystemAdvancedEntry,
        handler: () => advanced(),
      }),
      method('system.advanced.update', {
        description: 'Change the login banner (login_banner, at most 4096 characters; empty: none). Other fields are refused unless they keep their value: Midship does not manage those host features.',
        args: [arg('data', SystemAdvancedUpdate)],
        result: SystemAdvancedEntry,
        handler: (_ctx, data) => writes.run(async () => {
          const current = advanced() as Record<string, unknown>;
          const errors = new ValidationErrors();
          for (const [k, v] of Object.entries(data)) {
            if (k !== 'login_banner' && JSON.stringify(v) !== JSON.stringify(current[k])) errors.add(`data.${k}`, 'Midship does not manage this host setting; only login_banner can be changed', ERRNO.EOPNOTSUPP);
          }
          errors.throwIfAny();
          if (data.login_banner !== undefined && data.login_banner !== stored.login_banner) {
            const next = { ...stored, login_banner: data.login_banner };
            await db.put(SETTINGS_KEY, next);
            stored = next;
          }
          return advanced();
        }),
      }),
      method('system.advanced.login_banner', {
        description: 'The text to show before signing in (empty: none). No login needed.',
        args: [],
        result: LoginBanner,
        noAuth: true,
        handler: () => stored.login_banner,
      }),
      method('system.reboot.info', {
        description: 'This daemon start\'s boot id (as GET /api/boot_id) and why a reboot would be needed: never, for Midship.',
        args: [],
        result: RebootInfo,
        roles: ['SYSTEM_GENERAL_READ'],
        handler: () => ({ boot_id: app.bootId, reboot_required_reasons: [] }),
      }),
      method('system.product_type', {
        description: 'COMMUNITY_EDITION: Midship has no enterprise license.',
        args: [],
        result: ProductType,
        roles: ['SYSTEM_PRODUCT_READ'],
        handler: () => 'COMMUNITY_EDITION' as const,
      }),
    ],
    events: [
      { name: 'system.reboot.info', description: 'The reboot information changed (never, for Midship: no change needs a reboot).', roles: ['SYSTEM_GENERAL_READ'] },
    ],
    async start() {
      const s = await db.get(SETTINGS_KEY);
      if (s !== undefined) stored = s;
    },
  };
}
