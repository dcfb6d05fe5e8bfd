// What a failed signature or Basic-auth check answers and logs: one accurate text per reason, in line with
// the README's troubleshooting advice, is the 401/403 message and the hint of the log line. Pure: no Koa.
import type { Clock } from '../clock.js';
import type { ErrorKind } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SignatureFailureReason } from '../telemetry/catalog.js';

export const SIGNATURE_FAILURES: Readonly<
  Record<SignatureFailureReason, { kind: Extract<ErrorKind, 'unauthorized' | 'forbidden'>; message: string }>
> = {
  basic_auth_missing: {
    kind: 'unauthorized',
    message:
      'Basic auth required: the sink URL configured in Twilio must carry user:password@ matching BASIC_AUTH_USER/BASIC_AUTH_PASSWORD (or the user:password in PUBLIC_URL)',
  },
  basic_auth_wrong: {
    kind: 'unauthorized',
    message:
      'Basic auth credentials do not match BASIC_AUTH_USER/BASIC_AUTH_PASSWORD (or the user:password in PUBLIC_URL)',
  },
  missing_signature: {
    kind: 'unauthorized',
    message:
      'X-Twilio-Signature header missing: Twilio signs every delivery, so this request is not from Twilio or a proxy dropped the header',
  },
  missing_body_hash: {
    kind: 'forbidden',
    message:
      'the request URL has no bodySHA256 query parameter: Twilio adds it to every JSON delivery, so a proxy dropped the query string or the request is not from Event Streams',
  },
  body_hash_mismatch: {
    kind: 'forbidden',
    message:
      'the body bytes do not hash to the bodySHA256 in the signed URL: something between Twilio and the exporter rewrote the body (a proxy or WAF re-encoding JSON) or cut it; it must arrive byte for byte',
  },
  bad_signature: {
    kind: 'forbidden',
    message:
      'X-Twilio-Signature does not match: the URL rebuilt here differs from the one Twilio signed (set PUBLIC_URL to the sink URL exactly as configured in Twilio, or TRUST_PROXY=true behind a proxy that sends X-Forwarded-Proto/Host), or TWILIO_AUTH_TOKEN does not hold the token that signed it',
  },
};

/** bad_signature when there was no URL to check at all. */
export const NO_URL_MESSAGE =
  'X-Twilio-Signature cannot be checked: the request URL could not be rebuilt (no usable Host header); set PUBLIC_URL to the sink URL exactly as configured in Twilio';

export interface SignatureFailure {
  reason: SignatureFailureReason;
  /** The URL rebuilt for the check (it may carry user:password@; masked here), undefined when none could be. */
  url: string | undefined;
  /** Every spelling the HMAC was compared against (bad_signature only). */
  urlsTried?: readonly string[];
  /** Where the URL came from: PUBLIC_URL or the request. */
  urlFrom: string;
  remoteAddress: string;
  /** The text answered to the client, logged as the hint. */
  hint: string;
}

/** How long a reason stays quiet in the log after a line for it. */
export const SIGNATURE_FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Logs signature and Basic-auth failures at warn, rate-limited per reason: the first at once, then at most
 * one line per interval, carrying how many were left out since the previous line (the counter has them
 * all). Never logs the X-Twilio-Signature value, a token or a password: URLs have theirs masked.
 */
export class SignatureFailureLog {
  private readonly lastLine = new Map<SignatureFailureReason, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = SIGNATURE_FAILURE_LOG_INTERVAL_MS,
  ) {}

  record(f: SignatureFailure): void {
    const now = this.clock.now();
    const last = this.lastLine.get(f.reason);
    // A clock stepped back opens a new window rather than silencing the reason until it catches up.
    if (last !== undefined && now >= last.at && now - last.at < this.intervalMs) {
      last.suppressed++;
      return;
    }
    this.lastLine.set(f.reason, { at: now, suppressed: 0 });
    this.logger.warn(
      {
        reason: f.reason,
        url: f.url === undefined ? '(could not be rebuilt)' : shown(f.url),
        ...(f.urlsTried === undefined ? {} : { urlsTried: f.urlsTried.map(shown) }),
        urlFrom: f.urlFrom,
        remoteAddress: f.remoteAddress,
        suppressed: last?.suppressed ?? 0,
        hint: f.hint,
      },
      `webhook request rejected: ${f.reason}`,
    );
  }
}

/** Longer URLs (the query comes from the client) are cut, so a line stays a line. */
const MAX_URL_CHARS = 2048;

function shown(url: string): string {
  const masked = maskQueryValues(maskUrlPassword(url));
  return masked.length <= MAX_URL_CHARS ? masked : `${masked.slice(0, MAX_URL_CHARS)}…(${masked.length} chars)`;
}

/**
 * Every query value but `bodySHA256` replaced by `***`, names and separators kept as spelled: a sink URL
 * may carry a secret of its own in its query (a token for a gateway in front), and the hash is the one
 * value that helps (it shows whether the query reached the exporter intact).
 */
export function maskQueryValues(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const hashAt = url.indexOf('#', q);
  const end = hashAt === -1 ? url.length : hashAt;
  const query = url
    .slice(q + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1 || pair.slice(0, eq) === 'bodySHA256' || eq === pair.length - 1) return pair;
      return `${pair.slice(0, eq)}=***`;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${query}${url.slice(end)}`;
}

/**
 * The URL with the password in its `user:password@` replaced by `***`, spelled otherwise exactly as given
 * (re-serialising it would hide the difference that makes a signature fail). The userinfo runs to the last
 * `@` before the path, as WHATWG URL reads it.
 */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#\\]*)@/, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon === -1 || colon === userinfo.length - 1) return `${scheme}${userinfo}@`;
    return `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}
