// Every outbound URL passes here, at configuration time and again before each request: only
// http and https go out. A file:, data: or gopher: URL would let whoever configures a webhook
// read local files or talk to non-HTTP services from the daemon.
import { FieldErrors } from './field-errors.js';

const MAX_URL_LENGTH = 2048;

/** The parsed URL, or FieldErrors naming `field`. */
export function checkHttpUrl(value: unknown, field: string): URL {
  if (typeof value !== 'string' || value.length === 0) {
    throw FieldErrors.one(field, 'Must be a non-empty http:// or https:// URL');
  }
  if (value.length > MAX_URL_LENGTH) {
    throw FieldErrors.one(field, `URL is longer than ${MAX_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw FieldErrors.one(field, 'Not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw FieldErrors.one(field, `Only http:// and https:// URLs are allowed (got ${url.protocol})`);
  }
  if (url.hostname === '') {
    throw FieldErrors.one(field, 'URL has no host');
  }
  // Credentials in a URL end up in logs and delivery records; headers are redacted, URLs are not.
  if (url.username !== '' || url.password !== '') {
    throw FieldErrors.one(field, 'URL must not contain a user name or password; put credentials in a header');
  }
  return url;
}
