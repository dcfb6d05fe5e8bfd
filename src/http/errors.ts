// The one error funnel of the webhook port: every typed error becomes its status code here, anything
// unexpected becomes 500 (so Twilio retries), and request self-metrics are recorded in `finally` for the
// requests `counted` picks (those to WEBHOOK_PATH: health probes, with /readyz answering 503 while not
// ready, and unknown paths would dilute or inflate the 5xx share that VoiceInsightsWebhook5xx watches).
import type { Context, Next } from 'koa';
import { ExporterError, type ErrorKind } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';

const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_ready: 503,
};

export function errorFunnel(metrics: Pick<SelfMetrics, 'request'>, logger: Logger, counted: (ctx: Context) => boolean) {
  return async function funnel(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ExporterError('not_found', 'no such path on the webhook port');
      }
    } catch (err) {
      if (err instanceof ExporterError) {
        ctx.status = STATUS[err.kind];
        ctx.body = { error: err.code, message: err.message };
        if (err.kind === 'not_ready') ctx.set('Retry-After', '5');
        if (err.kind === 'unauthorized') ctx.set('WWW-Authenticate', 'Basic realm="voice-insights-exporter"');
      } else {
        ctx.status = 500;
        ctx.body = { error: 'internal', message: 'internal error; Twilio will retry' };
        logger.error({ err }, 'unexpected error while handling a request');
      }
    } finally {
      if (counted(ctx)) metrics.request(ctx.status, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
