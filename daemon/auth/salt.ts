// Salts of stored secrets, the password hashes and the API keys' SCRAM material alike: 16 random
// bytes are made, and 8 to 64 are accepted when a stored record is read back, so a corrupt or
// hostile one is refused rather than used.
export const SALT_BYTES = 16;

export function saltLengthOk(salt: Buffer): boolean {
  return salt.length >= 8 && salt.length <= 64;
}
