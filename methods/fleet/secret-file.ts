// Files holding secrets (NATS seeds, the signer's key) are written 0600 and refused when group or
// others may read them: a key that leaked to every local user is not a key any more, and saying so
// at start beats finding out after an incident.
import { open, readFile, stat } from 'node:fs/promises';
import { FleetInputError } from './errors.js';

export async function readSecretFile(path: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new FleetInputError(path, `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new FleetInputError(path, 'is not a regular file');
  if ((st.mode & 0o077) !== 0) {
    throw new FleetInputError(path, `holds a secret but its mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')}; make it 0600 (chmod 600)`);
  }
  return readFile(path, 'utf8');
}

/** Creates `path` with mode 0600 from the start (never briefly readable), refusing to overwrite. */
export async function writeSecretFile(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}
