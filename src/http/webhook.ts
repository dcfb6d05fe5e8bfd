// POST {WEBHOOK_PATH}: readiness -> Basic auth -> signature header -> content type -> raw body ->
// signature verification on the raw bytes -> ingest. No byte of the body is parsed before the
// signature holds (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
import type { Context } from 'koa';
import { ExporterError } from '../errors.js';
import type { Ingest } from '../pipeline/ingest.js';
import type { Readiness } from '../pipeline/readiness.js';
import type { SignatureFailureReason } from '../telemetry/catalog.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { checkBasicAuth } from './basic-auth.js';
import { assertJsonContentType, readRawBody } from './body.js';
import { publicRequestUrl, verifyTwilioRequest } from './signature.js';
import { NO_URL_MESSAGE, SIGNATURE_FAILURES } from './signature-failures.js';

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
  deps: { ingest: Ingest; readiness: Readiness; metrics: SelfMetrics },
) {
  const reject = (reason: SignatureFailureReason, message = SIGNATURE_FAILURES[reason].message): never => {
    deps.metrics.signatureFailure(reason);
    throw new ExporterError(SIGNATURE_FAILURES[reason].kind, message, reason);
  };
  const basicCredentials = opts.basicAuth === undefined ? [] : [opts.basicAuth];

  return async function webhook(ctx: Context): Promise<void> {
    if (!deps.readiness.isReady()) {
      throw new ExporterError('not_ready', `not ready: ${deps.readiness.reasons().join('; ')}`);
    }
    if (basicCredentials.length > 0) {
      const verdict = checkBasicAuth(ctx.get('authorization') || undefined, basicCredentials);
      if (verdict === 'missing') reject('basic_auth_missing');
      if (verdict === 'wrong') reject('basic_auth_wrong');
    }
    const signature = ctx.get('x-twilio-signature');
    const signed = !opts.insecureAcceptUnsigned;
    if (signed && signature === '') reject('missing_signature');
    assertJsonContentType(ctx);
    const raw = await readRawBody(ctx, opts.maxBodyBytes);
    if (signed) {
      const url = publicRequestUrl({
        publicUrl: opts.publicUrl,
        trustProxy: opts.trustProxy,
        requestUrl: ctx.originalUrl,
        host: ctx.get('host') || undefined,
        protocol: ctx.protocol === 'https' ? 'https' : 'http',
        forwardedProto: ctx.get('x-forwarded-proto') || undefined,
        forwardedHost: ctx.get('x-forwarded-host') || undefined,
      });
      if (url === undefined) reject('bad_signature', NO_URL_MESSAGE);
      else {
        const verdict = verifyTwilioRequest(opts.authTokens, { url, signature, rawBody: raw });
        if (!verdict.ok) reject(verdict.reason);
      }
    }
    ctx.status = 200;
    ctx.body = await deps.ingest.ingestBody(raw);
  };
}
