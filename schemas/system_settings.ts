// Shapes of system.general.*, system.advanced.*, system.reboot.* and system.product_type, as
// TrueNAS's API v27 defines them (the web UI reads them after signing in).
import { Type, type Static } from '@sinclair/typebox';

export const SystemGeneralEntry = Type.Object({
  id: Type.Integer(),
  ui_certificate: Type.Union([Type.Integer(), Type.Null()]),
  ui_httpsport: Type.Integer({ minimum: 1, maximum: 65535 }),
  ui_httpsredirect: Type.Boolean(),
  ui_httpsprotocols: Type.Array(Type.String()),
  ui_port: Type.Integer({ minimum: 0, maximum: 65535 }),
  ui_address: Type.Array(Type.String(), { minItems: 1 }),
  ui_v6address: Type.Array(Type.String(), { minItems: 1 }),
  ui_allowlist: Type.Array(Type.String()),
  ui_consolemsg: Type.Boolean(),
  ui_x_frame_options: Type.Union([Type.Literal('SAMEORIGIN'), Type.Literal('DENY'), Type.Literal('ALLOW_ALL')]),
  kbdmap: Type.String(),
  timezone: Type.String({ minLength: 1 }),
  usage_collection: Type.Union([Type.Boolean(), Type.Null()]),
  wizardshown: Type.Boolean(),
  usage_collection_is_set: Type.Boolean(),
  ds_auth: Type.Boolean(),
  ui_certificate_name: Type.Union([Type.String(), Type.Null()]),
});
export type SystemGeneralEntryT = Static<typeof SystemGeneralEntry>;

const SyslogServer = Type.Object({
  host: Type.String(),
  transport: Type.Union([Type.Literal('UDP'), Type.Literal('TCP'), Type.Literal('TLS')]),
  tls_certificate: Type.Union([Type.Integer(), Type.Null()]),
});

const SERIAL_SPEEDS = ['9600', '19200', '38400', '57600', '115200'] as const;
const SYSLOG_LEVELS = ['F_EMERG', 'F_ALERT', 'F_CRIT', 'F_ERR', 'F_WARNING', 'F_NOTICE', 'F_INFO', 'F_DEBUG'] as const;

/** The text shown before signing in (the web UI shows a non-empty one in a dialog). */
export const LoginBanner = Type.String({ maxLength: 4096 });

export const SystemAdvancedEntry = Type.Object({
  id: Type.Integer(),
  advancedmode: Type.Boolean(),
  autotune: Type.Boolean(),
  kdump_enabled: Type.Boolean(),
  boot_scrub: Type.Integer({ minimum: 1 }),
  consolemenu: Type.Boolean(),
  consolemsg: Type.Boolean(),
  debugkernel: Type.Boolean(),
  fqdn_syslog: Type.Boolean(),
  motd: Type.String(),
  login_banner: LoginBanner,
  powerdaemon: Type.Boolean(),
  serialconsole: Type.Boolean(),
  serialport: Type.String(),
  anonstats_token: Type.String(),
  serialspeed: Type.Union(SERIAL_SPEEDS.map((s) => Type.Literal(s))),
  overprovision: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  traceback: Type.Boolean(),
  uploadcrash: Type.Boolean(),
  anonstats: Type.Boolean(),
  sed_user: Type.Union([Type.Literal('USER'), Type.Literal('MASTER')]),
  sysloglevel: Type.Union(SYSLOG_LEVELS.map((s) => Type.Literal(s))),
  syslogservers: Type.Array(SyslogServer, { maxItems: 2 }),
  syslog_audit: Type.Boolean(),
  isolated_gpu_pci_ids: Type.Array(Type.String()),
  kernel_extra_options: Type.String(),
  nvidia: Type.Boolean(),
});
export type SystemAdvancedEntryT = Static<typeof SystemAdvancedEntry>;

/**
 * system.advanced.update: TrueNAS's fields are accepted by name, but Midship manages only the
 * login banner; the handler refuses changes to the others, naming them.
 */
export const SystemAdvancedUpdate = Type.Partial(Type.Omit(SystemAdvancedEntry, ['id', 'anonstats_token', 'isolated_gpu_pci_ids']), { additionalProperties: false });

export const RebootInfo = Type.Object({
  boot_id: Type.String(),
  reboot_required_reasons: Type.Array(Type.Object({ code: Type.String(), reason: Type.String() })),
});

export const ProductType = Type.Union([Type.Literal('COMMUNITY_EDITION'), Type.Literal('ENTERPRISE')]);
