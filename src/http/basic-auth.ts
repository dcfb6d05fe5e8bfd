// HTTP Basic auth for the webhook, as defence in depth next to the signature. When the sink destination
// carries `user:pass@`, Twilio sends `Authorization: Basic …` pre-emptively on every delivery (Digest is
// not supported): https://www.twilio.com/docs/events/webhook-quickstart
import { createHash, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  user: string;
  password: string;
}

export type BasicAuthVerdict = 'ok' | 'missing' | 'wrong';

/**
 * 'missing' when there is no Authorization header at all; 'wrong' for any other scheme, an unparseable
 * value or unknown credentials. Every configured pair is compared (no early exit) on SHA-256 digests,
 * so neither the position of a match nor the length of a secret shows in the timing.
 */
export function checkBasicAuth(header: string | undefined, credentials: readonly BasicCredentials[]): BasicAuthVerdict {
  const value = header?.trim() ?? '';
  if (value === '') return 'missing';
  // RFC 7617: scheme is case-insensitive; user-id cannot contain ':', the password can.
  const match = /^basic[ \t]+([A-Za-z0-9+/=_-]+)$/i.exec(value);
  if (match?.[1] === undefined) return 'wrong';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return 'wrong';
  const user = digest(decoded.slice(0, colon));
  const password = digest(decoded.slice(colon + 1));
  let ok = false;
  for (const c of credentials) {
    const userOk = timingSafeEqual(user, digest(c.user));
    const passwordOk = timingSafeEqual(password, digest(c.password));
    ok = (userOk && passwordOk) || ok;
  }
  return ok ? 'ok' : 'wrong';
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Percent-decoded userinfo of a URL (https://user:p%40ss@host/ -> user / p@ss), when it carries one. */
export function credentialsFromUrl(url: string): BasicCredentials | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.username === '' && parsed.password === '') return undefined;
  return { user: percentDecode(parsed.username), password: percentDecode(parsed.password) };
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // A stray '%' is kept literally by WHATWG URL; keep it literally here too.
    return s;
  }
}
