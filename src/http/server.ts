// The webhook port's Koa application: routes only, behaviour lives in the handlers.
import Router from '@koa/router';
import Koa from 'koa';
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
  const router = new Router();
  router.post(opts.webhookPath, webhookHandler(opts, deps));
  router.all(opts.webhookPath, () => {
    throw new ExporterError('method_not_allowed', `use POST for ${opts.webhookPath}`);
  });
  router.get('/healthz', healthz);
  router.get('/readyz', readyz(deps.readiness));
  app.use(errorFunnel(deps.metrics, deps.logger));
  app.use(router.routes());
  return app;
}
