// POST {WEBHOOK_PATH}: readiness -> Basic auth -> signature header -> content type -> raw body ->
// signature verification on the raw bytes -> ingest. No byte of the body is parsed before the
// signature holds (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
import type { Context } from 'koa';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { ExporterError } from '../errors.js';
import type { Ingest } from '../pipeline/ingest.js';
import type { Readiness } from '../pipeline/readiness.js';
import type { SignatureFailureReason } from '../telemetry/catalog.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { checkBasicAuth } from './basic-auth.js';
import { assertJsonContentType, readRawBody } from './body.js';
import { publicRequestUrl, signatureUrlVariants, verifyTwilioRequest } from './signature.js';
import { NO_URL_MESSAGE, SIGNATURE_FAILURES, SignatureFailureLog } from './signature-failures.js';

export interface WebhookOptions {
  authTokens: readonly string[];
  publicUrl: string | undefined;
  trustProxy: boolean;
  basicAuth: { user: string; password: string } | undefined;
  insecureAcceptUnsigned: boolean;
  maxBodyBytes: number;
}

export function webhookHandler(
  opts: WebhookOptions,
  deps: { ingest: Ingest; readiness: Readiness; metrics: SelfMetrics; logger: Logger; clock: Clock },
) {
  const failures = new SignatureFailureLog(deps.logger, deps.clock);
  const basicCredentials = opts.basicAuth === undefined ? [] : [opts.basicAuth];
  const urlFrom =
    opts.publicUrl !== undefined && opts.publicUrl.trim() !== ''
      ? 'PUBLIC_URL'
      : opts.trustProxy
        ? 'request (TRUST_PROXY: X-Forwarded-Proto/Host honoured)'
        : 'request (Host header)';

  /** The URL Twilio presumably signed, rebuilt from PUBLIC_URL or the request. */
  const signedUrl = (ctx: Context) =>
    publicRequestUrl({
      publicUrl: opts.publicUrl,
      trustProxy: opts.trustProxy,
      requestUrl: ctx.originalUrl,
      host: ctx.get('host') || undefined,
      protocol: ctx.protocol === 'https' ? 'https' : 'http',
      forwardedProto: ctx.get('x-forwarded-proto') || undefined,
      forwardedHost: ctx.get('x-forwarded-host') || undefined,
    });
  /** Counts, logs (rate-limited, never the signature or a secret) and answers the failure. */
  const reject = (
    ctx: Context,
    reason: SignatureFailureReason,
    check: { url?: string | undefined; urlsTried?: readonly string[]; message?: string } = { url: signedUrl(ctx) },
  ): never => {
    const message = check.message ?? SIGNATURE_FAILURES[reason].message;
    deps.metrics.signatureFailure(reason);
    failures.record({
      reason,
      url: check.url,
      ...(check.urlsTried === undefined ? {} : { urlsTried: check.urlsTried }),
      urlFrom,
      remoteAddress: ctx.ip,
      hint: message,
    });
    throw new ExporterError(SIGNATURE_FAILURES[reason].kind, message, reason);
  };

  return async function webhook(ctx: Context): Promise<void> {
    if (!deps.readiness.isReady()) {
      throw new ExporterError('not_ready', `not ready: ${deps.readiness.reasons().join('; ')}`);
    }
    if (basicCredentials.length > 0) {
      const verdict = checkBasicAuth(ctx.get('authorization') || undefined, basicCredentials);
      if (verdict === 'missing') reject(ctx, 'basic_auth_missing');
      if (verdict === 'wrong') reject(ctx, 'basic_auth_wrong');
    }
    const signature = ctx.get('x-twilio-signature');
    const signed = !opts.insecureAcceptUnsigned;
    if (signed && signature === '') reject(ctx, 'missing_signature');
    assertJsonContentType(ctx);
    const raw = await readRawBody(ctx, opts.maxBodyBytes);
    if (signed) {
      const url = signedUrl(ctx);
      if (url === undefined) reject(ctx, 'bad_signature', { url, message: NO_URL_MESSAGE });
      else {
        const verdict = verifyTwilioRequest(opts.authTokens, { url, signature, rawBody: raw });
        if (!verdict.ok) {
          const urlsTried = verdict.reason === 'bad_signature' ? signatureUrlVariants(url) : undefined;
          reject(ctx, verdict.reason, { url, ...(urlsTried === undefined ? {} : { urlsTried }) });
        }
      }
    }
    ctx.status = 200;
    ctx.body = await deps.ingest.ingestBody(raw);
  };
}
