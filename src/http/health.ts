// Liveness and readiness for orchestrators. /readyz mirrors what the webhook would answer.
import type { Context } from 'koa';
import type { Readiness } from '../pipeline/readiness.js';

export function healthz(ctx: Context): void {
  ctx.status = 200;
  ctx.body = { status: 'ok' };
}

export function readyz(readiness: Readiness) {
  return function ready(ctx: Context): void {
    const ok = readiness.isReady();
    ctx.status = ok ? 200 : 503;
    ctx.body = ok ? { ready: true } : { ready: false, reasons: readiness.reasons() };
  };
}
