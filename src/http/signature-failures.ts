// What a failed signature or Basic-auth check answers: one accurate text per reason, in line with the
// README's troubleshooting advice. Pure: no Koa.
import type { ErrorKind } from '../errors.js';
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
