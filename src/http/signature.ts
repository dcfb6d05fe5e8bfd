// X-Twilio-Signature verification for Event Streams webhook deliveries. Pure functions: no Koa, no I/O.
//
// What Twilio does (https://www.twilio.com/docs/usage/webhooks/webhooks-security and
// https://www.twilio.com/docs/events/webhook-quickstart): for a JSON body it appends
// `bodySHA256=<hex SHA-256 of the raw body>` to the sink URL, and the header is
// Base64(HMAC-SHA1(auth token, that full URL)); no body parameters are appended. A receiver checks both
// the body hash and the HMAC. Twilio's back end is inconsistent about default ports and query encoding,
// so, like twilio-node's validateRequest, several spellings of the same URL are tried.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';

export type SignatureFailureReason = 'missing_signature' | 'missing_body_hash' | 'body_hash_mismatch' | 'bad_signature';

export type SignatureVerdict = { ok: true; tokenIndex: number } | { ok: false; reason: SignatureFailureReason };

export interface SignedRequest {
  /** Full public URL Twilio called, query string exactly as received (it carries bodySHA256). */
  url: string;
  /** X-Twilio-Signature header value. */
  signature: string | undefined;
  /** Body bytes exactly as received. */
  rawBody: Buffer;
}

const SHA1_BYTES = 20;
const SHA256_HEX = /^[0-9a-f]{64}$/;
// Standard alphabet with padding, as Twilio sends it. Buffer.from(…, 'base64') silently skips other
// characters, so the shape is checked first; anything else is simply a mismatch.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DEFAULT_PORT: Readonly<Record<string, string>> = { 'https:': '443', 'http:': '80' };

/** Base64(HMAC-SHA1(token, url)) over the UTF-8 bytes of the URL, as Twilio computes it. */
export function twilioSignature(token: string, url: string): string {
  return createHmac('sha1', token).update(url, 'utf8').digest('base64');
}

/** Lowercase hex SHA-256 of the exact body bytes (never a re-decoded string: that breaks non-UTF-8 bodies). */
function bodySha256Hex(rawBody: Buffer): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

/**
 * Signs a delivery the way Twilio does: append `bodySHA256=<hex>` to the destination's query (keeping any
 * query it already has) and sign the resulting URL. For tests and the traffic simulator.
 * The returned url is the signed string; if it carries `user:pass@`, send those as a Basic
 * Authorization header instead (fetch refuses URLs with credentials).
 */
export function signTwilioRequest(
  token: string,
  destination: string,
  rawBody: Buffer,
): { url: string; signature: string } {
  // A fragment is never sent over HTTP, so it cannot be part of what Twilio requests.
  const hashAt = destination.indexOf('#');
  const base = hashAt === -1 ? destination : destination.slice(0, hashAt);
  const q = base.indexOf('?');
  const separator = q === -1 ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  const url = `${base}${separator}bodySHA256=${bodySha256Hex(rawBody)}`;
  return { url, signature: twilioSignature(token, url) };
}

/**
 * Verifies a signed Event Streams delivery. Tries every token (auth token rotation: Twilio signs with the
 * primary token only, and during a rotation that may be either of the configured ones) against every URL
 * variant. Never throws.
 */
export function verifyTwilioRequest(tokens: readonly string[], req: SignedRequest): SignatureVerdict {
  const header = req.signature?.trim() ?? '';
  if (header === '') return { ok: false, reason: 'missing_signature' };

  // The first bodySHA256 wins, like URLSearchParams.get in twilio-node (a duplicated parameter has been
  // seen on Twilio callbacks). Read from the raw string so a malformed URL still yields a stable reason.
  const claimed = bodyHashParam(req.url);
  if (claimed === undefined) return { ok: false, reason: 'missing_body_hash' };
  if (!bodyHashMatches(req.rawBody, claimed)) return { ok: false, reason: 'body_hash_mismatch' };

  const given = decodeSignature(header);
  const variants = signatureUrlVariants(req.url);
  if (given === undefined || variants === undefined) return { ok: false, reason: 'bad_signature' };

  for (const [tokenIndex, token] of tokens.entries()) {
    // An empty HMAC key is public knowledge: a blank token must never validate anything.
    if (token === '') continue;
    for (const variant of variants) {
      const expected = createHmac('sha1', token).update(variant, 'utf8').digest();
      if (timingSafeEqual(expected, given)) return { ok: true, tokenIndex };
    }
  }
  return { ok: false, reason: 'bad_signature' };
}

function bodyHashParam(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const hashAt = url.indexOf('#', q);
  const query = url.slice(q + 1, hashAt === -1 ? undefined : hashAt);
  const value = new URLSearchParams(query).get('bodySHA256');
  return value === null || value === '' ? undefined : value;
}

function bodyHashMatches(rawBody: Buffer, claimedHex: string): boolean {
  const claimed = claimedHex.toLowerCase();
  if (!SHA256_HEX.test(claimed)) return false;
  const actual = createHash('sha256').update(rawBody).digest();
  return timingSafeEqual(actual, Buffer.from(claimed, 'hex'));
}

/** The 20 digest bytes of a well-formed header, or undefined (wrong length / not base64: a mismatch). */
function decodeSignature(header: string): Buffer | undefined {
  if (!BASE64.test(header)) return undefined;
  const bytes = Buffer.from(header, 'base64');
  return bytes.length === SHA1_BYTES ? bytes : undefined;
}

/**
 * Every spelling of `url` that Twilio may have signed, each once: as given; default port removed and
 * added (https :443, http :80); both of those with the query re-serialised by node:querystring (the
 * "legacy querystring" forms twilio-node also accepts); and, when the URL carries `user:pass@`, all of
 * the above without the userinfo too (whether Event Streams signs it is undocumented).
 * Undefined when the URL cannot be parsed.
 */
export function signatureUrlVariants(url: string): string[] | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  // Fragments are never transmitted, so no signed URL contains one.
  parsed.hash = '';
  const variants = new Set<string>([url]);
  addPortVariants(variants, parsed);
  if (parsed.username !== '' || parsed.password !== '') {
    variants.add(url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1'));
    const bare = new URL(parsed);
    bare.username = '';
    bare.password = '';
    addPortVariants(variants, bare);
  }
  return [...variants];
}

function addPortVariants(into: Set<string>, parsed: URL): void {
  const withoutPort = new URL(parsed);
  withoutPort.port = '';
  const withPort = withDefaultPort(parsed);
  for (const u of [parsed.toString(), withoutPort.toString(), withPort]) into.add(u);
  for (const u of [withoutPort.toString(), withPort]) {
    const legacy = withLegacyQuerystring(u);
    if (legacy !== undefined) into.add(legacy);
  }
}

/**
 * WHATWG URL drops a default port, so it is spelled out by hand (as twilio-node's
 * buildUrlWithStandardPort does, keeping credentials). A non-default port is left as it is.
 */
function withDefaultPort(parsed: URL): string {
  const port = DEFAULT_PORT[parsed.protocol];
  if (parsed.port !== '' || port === undefined) return parsed.toString();
  const userinfo =
    parsed.username !== '' || parsed.password !== ''
      ? `${parsed.username}${parsed.password !== '' ? `:${parsed.password}` : ''}@`
      : '';
  return `${parsed.protocol}//${userinfo}${parsed.host}:${port}${parsed.pathname}${parsed.search}`;
}

/** Query parsed and re-serialised with node:querystring, which encodes some characters unlike WHATWG. */
function withLegacyQuerystring(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q === -1 || q === url.length - 1) return undefined;
  return `${url.slice(0, q)}?${stringifyQuery(parseQuery(url.slice(q + 1)))}`;
}

export interface PublicRequestUrlOptions {
  /** The sink destination exactly as configured in Twilio (PUBLIC_URL), if set. */
  publicUrl: string | undefined;
  trustProxy: boolean;
  /** Path + query as received, e.g. ctx.originalUrl. */
  requestUrl: string;
  /** Host header. */
  host: string | undefined;
  protocol: 'http' | 'https';
  forwardedProto?: string | undefined;
  forwardedHost?: string | undefined;
}

/**
 * The URL Twilio requested, as it would have signed it. With PUBLIC_URL: its scheme, userinfo, host,
 * port and path (a proxy may rewrite the path we see) plus the query AS RECEIVED (PUBLIC_URL's own query
 * and bodySHA256 arrive in it). Without: protocol + Host + requestUrl, honouring X-Forwarded-Proto/-Host
 * only behind a trusted proxy (otherwise any client could pick the URL we check against).
 * Undefined when no usable host is known.
 */
export function publicRequestUrl(opts: PublicRequestUrlOptions): string | undefined {
  const q = opts.requestUrl.indexOf('?');
  const query = q === -1 ? '' : opts.requestUrl.slice(q);
  if (opts.publicUrl !== undefined && opts.publicUrl.trim() !== '') {
    const configured = opts.publicUrl.trim();
    if (!URL.canParse(configured)) return undefined;
    // The configured text up to its query/fragment, verbatim: the exact spelling is the likeliest to
    // be what Twilio signed; normalised spellings are tried by signatureUrlVariants.
    const base = configured.replace(/[?#].*$/s, '');
    return `${base}${query}`;
  }
  const proto = (opts.trustProxy && httpProto(firstValue(opts.forwardedProto))) || opts.protocol;
  const host = (opts.trustProxy && firstValue(opts.forwardedHost)) || opts.host?.trim();
  if (host === undefined || host === '' || /[\s/?#@\\]/.test(host)) return undefined;
  const path = opts.requestUrl.startsWith('/') ? opts.requestUrl : `/${opts.requestUrl}`;
  return `${proto}://${host}${path}`;
}

/** First entry of a comma-separated header added by each proxy hop (the client-facing one). */
function firstValue(header: string | undefined): string | undefined {
  const first = header?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}

function httpProto(value: string | undefined): 'http' | 'https' | undefined {
  const v = value?.toLowerCase();
  return v === 'http' || v === 'https' ? v : undefined;
}
