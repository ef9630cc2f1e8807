// NATS credentials for --fleet-creds, from one file (mode 0600), in any of the forms a fleet uses:
//   - a host's .creds from `fleet init`: the user nkey seed in a `USER NKEY SEED` block (or a
//     bare `SU…` line), for servers that list users by nkey;
//   - a standard NATS .creds with a user JWT and seed, for servers run in operator mode, where
//     permissions live in the JWT the account signed;
//   - a signer.key (the signer's NATS seed is inside).
import { credsAuthenticator, nkeyAuthenticator, type Authenticator } from '@nats-io/transport-node';
import { FleetInputError } from './errors.js';
import { parseSignerFile, SIGNER_KEY_KIND } from './keys.js';
import { readSecretFile } from './secret-file.js';

const SEED_RE = /^SU[A-Z2-7]{56}$/;

export interface NatsCredentials {
  authenticator: Authenticator;
  kind: 'nkey' | 'jwt';
}

export function hostCredsText(seed: string): string {
  return [
    '# Midship fleet host credentials: a NATS user nkey seed. Keep secret (mode 0600).',
    '-----BEGIN USER NKEY SEED-----',
    seed,
    '------END USER NKEY SEED------',
    '',
  ].join('\n');
}

export function parseCredentials(text: string, source = 'credentials'): NatsCredentials {
  if (text.includes(`"${SIGNER_KEY_KIND}"`)) {
    const signer = parseSignerFile(text, source);
    return { authenticator: nkeyAuthenticator(new TextEncoder().encode(signer.natsSeed)), kind: 'nkey' };
  }
  if (/-----BEGIN NATS USER JWT-----/.test(text)) {
    const bytes = new TextEncoder().encode(text);
    const auth = credsAuthenticator(bytes);
    // It parses lazily, at the first connect: fail here instead, where the file is named.
    try {
      auth('');
    } catch (e) {
      throw new FleetInputError(source, `is not a valid NATS .creds file: ${(e as Error).message}`);
    }
    return { authenticator: auth, kind: 'jwt' };
  }
  const seed = text.split('\n').map((l) => l.trim()).find((l) => SEED_RE.test(l));
  if (seed === undefined) throw new FleetInputError(source, 'holds no NATS user nkey seed (SU…), user JWT or Midship signer key');
  return { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), kind: 'nkey' };
}

export async function loadCredentials(path: string): Promise<NatsCredentials> {
  return parseCredentials(await readSecretFile(path), path);
}
