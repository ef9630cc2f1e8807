// Who a session is, in TrueNAS's words (auth.me, and login_ex's user_info): the passwd-style user
// object, the composed privilege (the roles held and every role they include, which is what the
// TrueNAS web UI checks one by one), account attributes, the web UI's own attributes and the
// second-factor configuration.
import { expandRoles, hasWebUiAccess, isFullAdmin, mayCall, type App, type Credentials } from '#midship/module-api';
import type { MeResultT } from '../../schemas/auth.js';
import type { AttributeStore } from './attributes.js';

/** The account a token session acts for is the one that made the token (as TrueNAS's root_credentials). */
export function principal(c: Credentials): Credentials {
  return c.type === 'TOKEN' && c.parent ? c.parent : c;
}

/** Whose attributes these are: a local account by id, else the unix-socket administrator. */
export function attributeOwner(c: Credentials): string {
  return c.userId === null ? 'root' : `user:${c.userId}`;
}

/** uids as the web UI sees them: local accounts from 1000 up (their ids never repeat), root 0. */
function uidOf(c: Credentials): number {
  return c.userId === null ? 0 : 1000 + c.userId;
}

export function privilegeOf(app: App, c: Credentials): MeResultT['privilege'] {
  const full = isFullAdmin(c);
  const allowlist = full
    ? [{ method: '*', resource: '*' }]
    : [...app.registry.methods.values()]
      .filter((m) => !m.def.noAuth && !m.def.authOnly && !m.def.private && mayCall(c, m))
      .map((m) => ({ method: 'CALL', resource: m.def.name }));
  return {
    roles: { $set: expandRoles(c.roles, app.registry.declaredRoles) },
    allowlist,
    // The web shell is a root shell on the host: full admins only.
    web_shell: full,
    webui_access: hasWebUiAccess(c.roles),
  };
}

/** TrueNAS's AccountFlag values that apply to a Midship account and how it logged in. */
function accountAttributes(c: Credentials): string[] {
  const flags = ['LOCAL'];
  if (c.userId === null) flags.push('SYS_ADMIN');
  if (c.apiKey) flags.push('API_KEY');
  return flags;
}

export function userInfo(app: App, attributes: AttributeStore, session: Credentials): MeResultT {
  const c = principal(session);
  const user = c.userId === null ? undefined : app.auth.users.get(c.userId);
  const root = c.userId === null;
  return {
    pw_name: c.username,
    pw_gecos: user?.full_name ?? (root ? 'root' : ''),
    pw_dir: root ? '/root' : '/var/empty',
    pw_shell: '/usr/sbin/nologin',
    pw_uid: uidOf(c),
    pw_gid: uidOf(c),
    grouplist: null,
    sid: null,
    source: 'LOCAL',
    local: true,
    privilege: privilegeOf(app, c),
    account_attributes: accountAttributes(c),
    attributes: attributes.get(attributeOwner(c)),
    // Midship has no second factor (auth.twofactor.config answers enabled: false).
    two_factor_config: { provisioning_uri: null, secret_configured: false, interval: 30, otp_digits: 6 },
    credentials_type: session.type,
  };
}
