// The role vocabulary: TrueNAS's role names and which role includes which, as middlewared defines
// them (src/middlewared/middlewared/role.py), so that what Midship checks and reports is what the
// TrueNAS web UI and scripts written for TrueNAS look for (the UI enables its cron page's buttons
// when `privilege.roles` holds SYSTEM_CRON_WRITE, not when it holds FULL_ADMIN). Every module
// names its roles from this table (rolePrefix 'POOL' gives POOL_READ / POOL_WRITE).
//
// A module may also declare an area the table does not know (a test module's TEST_READ): such a
// role follows the table's usual rule, <AREA>_WRITE includes <AREA>_READ, and READONLY_ADMIN
// includes every *_READ.

interface RoleDef {
  /** Roles this one grants as well (transitively). */
  includes?: readonly string[];
  /**
   * Roles meant to be assigned to people (FULL_ADMIN, READONLY_ADMIN, SHARING_ADMIN,
   * REPLICATION_ADMIN) rather than to name the access of a method: holding one of them is what
   * gives access to the web UI (privilege.webui_access), as in TrueNAS.
   */
  assignable?: boolean;
}

const pair = (area: string, readIncludes: readonly string[] = [], writeIncludes: readonly string[] = []): Record<string, RoleDef> => ({
  [`${area}_READ`]: { includes: readIncludes },
  [`${area}_WRITE`]: { includes: [`${area}_READ`, ...writeIncludes] },
});

const ISCSI = ['AUTH', 'EXTENT', 'GLOBAL', 'HOST', 'INITIATOR', 'PORTAL', 'TARGET', 'TARGETEXTENT'];

const TABLE: Record<string, RoleDef> = {
  ...pair('ACCOUNT'),
  ...pair('API_KEY'),
  ...pair('AUTH_SESSIONS'),
  ...pair('BOOT_ENV'),
  ...pair('DIRECTORY_SERVICE'),
  ...pair('DISK'),
  ...pair('FAILOVER'),
  ...pair('FILESYSTEM_ATTRS'),
  ...pair('FILESYSTEM_DATA'),
  FILESYSTEM_FULL_CONTROL: { includes: ['FILESYSTEM_ATTRS_WRITE', 'FILESYSTEM_DATA_WRITE'] },
  ...pair('IPMI'),
  ...pair('KMIP'),
  MAIL_WRITE: {},
  ...pair('PRIVILEGE'),
  ...pair('REPORTING'),
  ...pair('SUPPORT'),
  ...pair('SSH'),
  // TrueNAS keeps these two apart: writing the audit settings does not read the audit log.
  SYSTEM_AUDIT_READ: {},
  SYSTEM_AUDIT_WRITE: {},
  FULL_ADMIN: { assignable: true },
  ALERT_LIST_READ: {},
  ALERT_LIST_WRITE: { includes: ['ALERT_LIST_READ'] },
  ALERT_READ: { includes: ['ALERT_LIST_READ'] },
  ALERT_WRITE: { includes: ['ALERT_LIST_WRITE', 'ALERT_READ'] },
  ...pair('CLOUD_BACKUP'),
  ...pair('CLOUD_SYNC'),
  // Starting and stopping services does not by itself show them.
  SERVICE_READ: {},
  SERVICE_WRITE: {},
  ...pair('ENCLOSURE'),
  ...pair('NETWORK_GENERAL'),
  ...pair('NETWORK_INTERFACE'),
  VM_READ: {},
  VM_WRITE: { includes: ['VM_READ'] },
  VM_DEVICE_READ: { includes: ['VM_READ'] },
  VM_DEVICE_WRITE: { includes: ['VM_WRITE', 'VM_DEVICE_READ'] },
  CONTAINER_READ: {},
  CONTAINER_WRITE: { includes: ['CONTAINER_READ'] },
  ...pair('LXC_CONFIG'),
  CONTAINER_DEVICE_READ: { includes: ['CONTAINER_READ'] },
  CONTAINER_DEVICE_WRITE: { includes: ['CONTAINER_WRITE', 'CONTAINER_DEVICE_READ'] },
  ...pair('CONTAINER_IMAGE'),
  ...pair('JBOF'),
  ...pair('TRUECOMMAND'),
  ...pair('TRUENAS_CONNECT'),
  ...pair('CERTIFICATE'),
  ...pair('CATALOG'),
  ...pair('DOCKER'),
  ...pair('APPS', ['CATALOG_READ'], ['CATALOG_WRITE']),
  ...pair('SHARING_FTP'),
  ...Object.assign({}, ...ISCSI.map((a) => pair(`SHARING_ISCSI_${a}`))) as Record<string, RoleDef>,
  SHARING_ISCSI_READ: { includes: ISCSI.map((a) => `SHARING_ISCSI_${a}_READ`) },
  SHARING_ISCSI_WRITE: { includes: ISCSI.map((a) => `SHARING_ISCSI_${a}_WRITE`) },
  ...pair('SHARING_NFS'),
  ...pair('SHARING_NVME_TARGET'),
  ...pair('SHARING_SMB'),
  ...pair('SHARING_WEBSHARE'),
  SHARING_READ: { includes: ['SHARING_ISCSI_READ', 'SHARING_NFS_READ', 'SHARING_NVME_TARGET_READ', 'SHARING_SMB_READ', 'SHARING_FTP_READ', 'SHARING_WEBSHARE_READ'] },
  SHARING_WRITE: { includes: ['SHARING_ISCSI_WRITE', 'SHARING_NFS_WRITE', 'SHARING_NVME_TARGET_WRITE', 'SHARING_SMB_WRITE', 'SHARING_FTP_WRITE', 'SHARING_WEBSHARE_WRITE'] },
  ...pair('KEYCHAIN_CREDENTIAL'),
  ...pair('REPLICATION_TASK_CONFIG'),
  ...pair('REPLICATION_TASK'),
  REPLICATION_TASK_WRITE_PULL: { includes: ['REPLICATION_TASK_WRITE'] },
  ...pair('SNAPSHOT_TASK'),
  ...pair('POOL_SCRUB'),
  POOL_READ: { includes: ['POOL_SCRUB_READ'] },
  POOL_WRITE: { includes: ['POOL_READ', 'POOL_SCRUB_WRITE'] },
  ...pair('DATASET'),
  DATASET_DELETE: {},
  ...pair('SNAPSHOT'),
  SNAPSHOT_DELETE: {},
  REPLICATION_ADMIN: { assignable: true, includes: ['KEYCHAIN_CREDENTIAL_WRITE', 'REPLICATION_TASK_CONFIG_WRITE', 'REPLICATION_TASK_WRITE', 'SNAPSHOT_TASK_WRITE', 'SNAPSHOT_WRITE'] },
  SHARING_ADMIN: { assignable: true, includes: ['READONLY_ADMIN', 'DATASET_WRITE', 'SHARING_WRITE', 'ZFS_RESOURCE_WRITE', 'FILESYSTEM_ATTRS_WRITE', 'SERVICE_READ'] },
  ...pair('SYSTEM_GENERAL'),
  // middlewared has SYSTEM_PRODUCT_WRITE include itself (a slip); it includes the READ here.
  ...pair('SYSTEM_PRODUCT'),
  ...pair('SYSTEM_ADVANCED'),
  ...pair('SYSTEM_SECURITY'),
  ...pair('SYSTEM_TUNABLE'),
  ...pair('SYSTEM_CRON'),
  ...pair('SYSTEM_UPDATE'),
  ...pair('ZFS_RESOURCE'),
  ZFS_RESOURCE_DELETE: {},
};
// READONLY_ADMIN: every *_READ of the table (and, by the rule above, of modules' own areas).
TABLE.READONLY_ADMIN = { assignable: true, includes: Object.keys(TABLE).filter((r) => r.endsWith('_READ')) };

/** Every role name of the vocabulary, sorted. */
export const ROLE_NAMES: readonly string[] = Object.keys(TABLE).sort();

/** Names Midship used before it took TrueNAS's, and the names that replace them (migrated at start). */
export const RENAMED_ROLES: Readonly<Record<string, string>> = {
  CRONJOB_READ: 'SYSTEM_CRON_READ',
  CRONJOB_WRITE: 'SYSTEM_CRON_WRITE',
};

function closureOf(role: string, seen = new Set<string>()): Set<string> {
  if (seen.has(role)) return seen;
  seen.add(role);
  for (const r of TABLE[role]?.includes ?? []) closureOf(r, seen);
  return seen;
}

// Derived once from the constant table: the roles each role grants, itself included.
const CLOSURES: ReadonlyMap<string, ReadonlySet<string>> = new Map(ROLE_NAMES.map((r) => [r, closureOf(r)]));

/** Whether `role` is TrueNAS's name of a role (or a module area's READ/WRITE, see above). */
export function isVocabularyRole(role: string): boolean {
  return CLOSURES.has(role);
}

/** Whether a role of a module's own area (not in the table) is granted by `held` through the naming rule. */
function grantedByRule(h: string, role: string): boolean {
  if (CLOSURES.has(role)) return false;
  if (h.endsWith('_WRITE') && !CLOSURES.has(h) && role === `${h.slice(0, -'_WRITE'.length)}_READ`) return true;
  return role.endsWith('_READ') && (CLOSURES.get(h)?.has('READONLY_ADMIN') ?? false);
}

/** Whether holding `held` grants `role`: FULL_ADMIN grants all, else the table's inclusions. */
export function roleGranted(held: readonly string[], role: string): boolean {
  for (const h of held) {
    if (h === 'FULL_ADMIN' || h === role || CLOSURES.get(h)?.has(role) || grantedByRule(h, role)) return true;
  }
  return false;
}

/**
 * Every role `held` grants, as TrueNAS reports them in privilege.roles: FULL_ADMIN expands to the
 * whole vocabulary, READONLY_ADMIN to every *_READ. `moduleRoles`: roles the loaded modules
 * declare beyond the table, granted by the same rules.
 */
export function expandRoles(held: readonly string[], moduleRoles: Iterable<string> = []): string[] {
  const out = new Set<string>();
  const full = held.includes('FULL_ADMIN');
  for (const h of held) for (const r of CLOSURES.get(h) ?? [h]) out.add(r);
  if (full) for (const r of ROLE_NAMES) out.add(r);
  for (const r of moduleRoles) if (full || roleGranted(held, r)) out.add(r);
  return [...out].sort();
}

/** TrueNAS's privilege.webui_access: the account holds a role meant for people, not only method roles. */
export function hasWebUiAccess(held: readonly string[]): boolean {
  return held.some((r) => TABLE[r]?.assignable === true);
}
