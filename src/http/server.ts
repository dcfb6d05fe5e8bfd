// The webhook port's Koa application: routes only, behaviour lives in the handlers.
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Ingest } from '../pipeline/ingest.js';
import type { Readiness } from '../pipeline/readiness.js';
import type { SelfMetrics } from '../telemetry/self-metrics.js';
import { errorFunnel } from './errors.js';
import { healthz, readyz } from './health.js';
import { webhookHandler, type WebhookOptions } from './webhook.js';
import { ExporterError } from '../errors.js';

export interface WebhookAppOptions extends WebhookOptions {
  webhookPath: string;
}

export function createWebhookApp(
  opts: WebhookAppOptions,
  deps: { ingest: Ingest; readiness: Readiness; metrics: SelfMetrics; logger: Logger; clock: Clock },
): Koa {
  const app = new Koa();
  app.proxy = opts.trustProxy;
  // Koa would print every error itself; the funnel already logs what matters.
  app.silent = true;
  // Only requests the router sends to WEBHOOK_PATH (any method, so a 405 there too) are counted in the
  // webhook request metrics; /healthz, /readyz and unknown paths are not. Marked by route rather than
  // compared by path: the router matches paths case-insensitively and with a trailing slash.
  const deliveries = new WeakSet<Context>();
  const delivery = (ctx: Context, next: Next): Promise<unknown> => {
    deliveries.add(ctx);
    return next();
  };
  const router = new Router();
  router.post(opts.webhookPath, delivery, webhookHandler(opts, deps));
  router.all(opts.webhookPath, delivery, () => {
    throw new ExporterError('method_not_allowed', `use POST for ${opts.webhookPath}`);
  });
  router.get('/healthz', healthz);
  router.get('/readyz', readyz(deps.readiness));
  app.use(errorFunnel(deps.metrics, deps.logger, (ctx) => deliveries.has(ctx)));
  app.use(router.routes());
  return app;
}
