// Ed25519 signing keys of fleet signers, with node:crypto (a verify costs about 0.1 ms there, a
// pure-JS one 7-10 ms), and their files:
//   signer.pub   one line `ed25519:<base64url of the 32-byte public key>`; a trust file
//                (--fleet-trust) holds one such line per trusted signer, `#` starts a comment.
//   signer.key   JSON {kind, public_key, signing_key, nats_seed}, mode 0600: the signing key and
//                the signer's NATS identity in one file, so midclt needs one flag.
// The signing key is never the NATS nkey: nkey authentication signs whatever nonce the server
// sends, so a hostile server could have the client sign the bytes of a fleet request.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { FleetInputError } from './errors.js';
import { readSecretFile } from './secret-file.js';

/** A public key as written in files and carried in requests (`kid`): 43 base64url characters. */
const RAW_KEY_RE = /^[A-Za-z0-9_-]{43}$/;
const PUBLIC_LINE_RE = /^ed25519:([A-Za-z0-9_-]{43})(?:\s.*)?$/;

export const SIGNER_KEY_KIND = 'midship-fleet-signer';

export interface SigningKey {
  /** The public key as `kid`: base64url of its 32 bytes. */
  keyId: string;
  privateKey: KeyObject;
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(privateKey), privateKey };
}

function keyIdOf(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  return jwk.x;
}

/** The `ed25519:<kid>` line of a public key file. */
export function publicKeyLine(keyId: string): string {
  return `ed25519:${keyId}`;
}

export function publicKeyObject(keyId: string, field = 'public_key'): KeyObject {
  if (!RAW_KEY_RE.test(keyId)) throw new FleetInputError(field, 'must be 43 base64url characters (an Ed25519 public key)');
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: keyId }, format: 'jwk' });
  } catch (e) {
    throw new FleetInputError(field, `not an Ed25519 public key: ${(e as Error).message}`);
  }
}

/** The private key `d` (base64url seed) with its public key `x`, as stored in signer.key. */
export function signingKeyFrom(d: string, x: string, field = 'signing_key'): SigningKey {
  if (!RAW_KEY_RE.test(d)) throw new FleetInputError(field, 'must be 43 base64url characters (an Ed25519 seed)');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' });
  } catch (e) {
    throw new FleetInputError(field, `not an Ed25519 private key: ${(e as Error).message}`);
  }
  // node checks nothing about x against d: derive the real public key and compare.
  const derived = keyIdOf(createPublicKey(privateKey));
  if (derived !== x) throw new FleetInputError('public_key', 'does not belong to signing_key');
  return { keyId: x, privateKey };
}

export function exportSigningKey(key: SigningKey): { d: string; x: string } {
  const jwk = key.privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 private key');
  return { d: jwk.d, x: jwk.x };
}

/** Parses a trust file's text: one `ed25519:<kid>` per line, blank lines and `#` comments allowed. */
export function parseTrustedKeys(text: string, source = 'trust file'): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = PUBLIC_LINE_RE.exec(line);
    if (!m) throw new FleetInputError(`${source}:${i + 1}`, 'expected `ed25519:<43 base64url characters>`');
    keys.set(m[1]!, publicKeyObject(m[1]!, `${source}:${i + 1}`));
  });
  if (keys.size === 0) throw new FleetInputError(source, 'holds no public key');
  return keys;
}

export interface SignerFile {
  signingKey: SigningKey;
  /** The NATS user seed (`SU…`) the signer connects with. */
  natsSeed: string;
}

export function signerFileText(signingKey: SigningKey, natsSeed: string): string {
  const { d, x } = exportSigningKey(signingKey);
  return `${JSON.stringify({ kind: SIGNER_KEY_KIND, public_key: publicKeyLine(x), signing_key: d, nats_seed: natsSeed }, null, 2)}\n`;
}

export function parseSignerFile(text: string, source = 'signer key'): SignerFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new FleetInputError(source, 'is not a Midship fleet signer key (not JSON)');
  }
  if (v === null || typeof v !== 'object' || (v as { kind?: unknown }).kind !== SIGNER_KEY_KIND) {
    throw new FleetInputError(source, `is not a Midship fleet signer key (kind must be "${SIGNER_KEY_KIND}")`);
  }
  const o = v as Record<string, unknown>;
  const pub = typeof o.public_key === 'string' ? PUBLIC_LINE_RE.exec(o.public_key) : null;
  if (!pub) throw new FleetInputError(`${source}.public_key`, 'expected `ed25519:<43 base64url characters>`');
  if (typeof o.signing_key !== 'string') throw new FleetInputError(`${source}.signing_key`, 'is missing');
  if (typeof o.nats_seed !== 'string' || !/^SU[A-Z2-7]{56}$/.test(o.nats_seed)) {
    throw new FleetInputError(`${source}.nats_seed`, 'must be a NATS user nkey seed (SU…)');
  }
  return { signingKey: signingKeyFrom(o.signing_key, pub[1]!, `${source}.signing_key`), natsSeed: o.nats_seed };
}

/** Reads signer.key, refusing a file others can read. */
export async function loadSignerFile(path: string): Promise<SignerFile> {
  return parseSignerFile(await readSecretFile(path), path);
}
