// Rules for names people choose (user names, key names, the OS user of a cron job): no control
// characters anywhere, and no local account may take a name the system or the protocol already
// gives a meaning to. A Midship user called `root` would look like the unix-socket administrator
// in job records and logs; one called `token` like a credential type.
import type { ValidationErrors } from '../errors.js';
import { ERRNO } from '../errors.js';

// C0 controls, DEL and C1 controls. NUL in particular cannot be passed to getent or written to a
// terminal safely, and none of them belong in a name.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Adds an error when `value` holds a control character; true when it is clean. */
export function checkNoControlChars(value: string, attr: string, errors: ValidationErrors): boolean {
  if (!CONTROL.test(value)) return true;
  errors.add(attr, 'Must not contain control characters (NUL, newline, escape, ...)');
  return false;
}

/**
 * Names a local account cannot have: Debian's and TrueNAS's system accounts (whose names may also
 * appear as cron job users and in job ownership), and the credential types of PROTOCOL.md 5.1.
 * Not `truenas_admin`: that is TrueNAS's name for the web UI's administrator, which the web UI
 * offers to set up (user.setup_local_administrator), and a Midship account is exactly that.
 */
const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  // system accounts
  'root', 'toor', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy',
  'www-data', 'backup', 'list', 'irc', 'gnats', '_apt', 'nobody', 'nogroup', 'messagebus', 'sshd', 'avahi',
  'ntp', 'ftp', 'nslcd', 'polkitd', 'libvirt-qemu', 'nut', 'webdav', 'syslog', 'tss', 'uuidd', 'docker',
  'apps', 'netdata', 'midship', 'midshipd',
  // credential types and internal callers
  'unix_socket', 'login_password', 'login_twofactor', 'login_onetime_password', 'api_key', 'token',
  'truenas_node', 'internal',
]);

export function isReservedUsername(name: string): boolean {
  return RESERVED_USERNAMES.has(name) || name.startsWith('systemd-');
}

/** Adds an error when `name` is reserved. */
export function checkNotReserved(name: string, attr: string, errors: ValidationErrors): void {
  if (isReservedUsername(name)) errors.add(attr, `'${name}' is reserved for the system and cannot be used`, ERRNO.EEXIST);
}
