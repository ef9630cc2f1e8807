// The software's version (package.json) and build time (when the compiled code was written),
// read once: system.version, system.version_short and system.info's version and buildtime.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SoftwareVersion {
  /** "0.1.0" (system.version_short). */
  version: string;
  /** "Midship-0.1.0" (system.version; TrueNAS answers "TrueNAS-<version>"). */
  fullname: string;
  /** Epoch ms the running code was compiled. */
  buildtime: number;
}

/** The project's package.json, searched upwards from this file (source tree or dist/). */
async function findPackageJson(from: string): Promise<{ version: string } | null> {
  for (let dir = from; ; dir = dirname(dir)) {
    const text = await readFile(join(dir, 'package.json'), 'utf8').catch(() => null);
    if (text !== null) {
      const pkg = JSON.parse(text) as { name?: string; version?: string };
      if (pkg.name === 'midship' && typeof pkg.version === 'string') return { version: pkg.version };
    }
    if (dirname(dir) === dir) return null;
  }
}

export async function readSoftwareVersion(): Promise<SoftwareVersion> {
  const here = fileURLToPath(import.meta.url);
  const pkg = await findPackageJson(dirname(here));
  if (pkg === null) throw new Error('package.json of midship not found above ' + here);
  const built = await stat(here);
  return { version: pkg.version, fullname: `Midship-${pkg.version}`, buildtime: Math.floor(built.mtimeMs) };
}
