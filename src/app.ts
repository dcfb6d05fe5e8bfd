// Composition root: builds and wires the parts; no behaviour of its own.
// Closures below may name parts built further down: they only run once everything exists.
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallAssembler } from './calls/assembler.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { createWebhookApp } from './http/server.js';
import type { Logger } from './logger.js';
import { sinkTestLogger } from './pipeline/handlers.js';
import { Ingest } from './pipeline/ingest.js';
import { Readiness } from './pipeline/readiness.js';
import { FileDeadLetterSink } from './store/dead-letter.js';
import { MemoryCallStore } from './store/memory-call-store.js';
import { MemoryDedupStore } from './store/memory-dedup.js';
import { createCallMetricsRecorder } from './telemetry/call-metrics-recorder.js';
import { createCallOutcomeRecorder, type CallOutcomeRecorder } from './telemetry/call-outcome-recorder.js';
import { LabelLimiter } from './telemetry/label-limiter.js';
import { createMetricsServer } from './telemetry/metrics-server.js';
import { createOtlpSpanExporter } from './telemetry/otlp-traces.js';
import { createTelemetry, type Telemetry } from './telemetry/providers.js';
import { createSelfMetrics, type SelfMetrics } from './telemetry/self-metrics.js';
import { createTraceEmitter, type TraceEmitter } from './telemetry/trace-emitter.js';

/** How often idle calls are looked for; small against the 45 min default idle timeout. */
const SWEEP_INTERVAL_MS = 30_000;

export interface App {
  readiness: Readiness;
  ingest: Ingest;
  telemetry: Telemetry;
  metrics: SelfMetrics;
  /** Once-per-call metrics; the call trace finaliser records each call here exactly once. */
  callOutcomes: CallOutcomeRecorder;
  calls: CallAssembler;
  traces: TraceEmitter;
  /** Listens on PORT and METRICS_PORT (0 = any free port) and returns the bound ports. */
  start(): Promise<{ webhookPort: number; metricsPort: number }>;
  /** Stops accepting, lets in-flight requests finish, flushes files and telemetry. */
  stop(): Promise<void>;
}

export async function createApp(config: Config, deps: { clock: Clock; logger: Logger }): Promise<App> {
  const { clock, logger } = deps;
  const readiness = new Readiness();
  readiness.set('starting', 'starting up');
  if (config.authTokens.length === 0 && !config.insecureAcceptUnsigned) {
    readiness.set('auth', 'TWILIO_AUTH_TOKEN is not set, so signatures cannot be verified');
  }
  const telemetry = createTelemetry({
    serviceName: config.serviceName,
    otlpMetrics: config.otlpMetrics,
    onExportFailure: (signal) => metrics.exportFailure(signal),
  });
  const dedup = new MemoryDedupStore({
    ttlSeconds: config.dedupTtlSeconds,
    maxEntries: config.dedupMaxEntries,
    clock,
    onEarlyEviction: (count) => metrics.dedupEarlyEviction(count),
  });
  const callStore = new MemoryCallStore(clock, config.dedupTtlSeconds * 1000);
  const metrics = createSelfMetrics(telemetry.meter, {
    dedupIds: () => dedup.size(),
    ready: () => readiness.isReady(),
    callsInFlight: () => callStore.pendingCount(),
    traceQueue: () => traces.queued(),
  });
  const deadLetters = new FileDeadLetterSink(config.dataDir, config.deadLetterMaxBytes);
  try {
    await deadLetters.open();
  } catch (err) {
    logger.error({ err, dataDir: config.dataDir }, 'DATA_DIR is not writable; the webhook answers 503 until it is');
    readiness.set('data_dir', `DATA_DIR ${config.dataDir} is not writable`);
  }

  const limiter = new LabelLimiter(config.metricLabelMaxValues, (metric, label) =>
    metrics.labelOverflow(metric, label),
  );
  const callOutcomes = createCallOutcomeRecorder(telemetry.meter, limiter);
  const traces = createTraceEmitter({
    resource: telemetry.resource,
    exporter: config.traces === undefined ? undefined : createOtlpSpanExporter(config.traces.protocol),
    maxQueuedSpans: config.traces?.queueMaxSpans ?? 0,
    retryInitialMs: config.traces?.retryInitialMs ?? 1000,
    retryMaxMs: 5 * 60_000,
    giveUpAfterMs: config.traces?.giveUpAfterMs ?? 0,
    now: () => clock.now(),
    onExportFailure: () => {
      metrics.exportFailure('traces');
      warnExportFailure();
    },
    onDropped: (reason, spans) => metrics.spansDropped(reason, spans),
  });
  // One warning a minute at most: a backend outage should be visible in logs without flooding them.
  let lastExportWarning = Number.NEGATIVE_INFINITY;
  const warnExportFailure = () => {
    if (clock.now() - lastExportWarning < 60_000) return;
    lastExportWarning = clock.now();
    logger.warn(
      { queuedSpans: traces.queued() },
      'OTLP trace export failed; retrying with backoff. Check OTEL_EXPORTER_OTLP_ENDPOINT',
    );
  };
  const calls = new CallAssembler({
    store: callStore,
    clock,
    emitSpans: (spans) => traces.emit(spans),
    recordOutcome: (summary) => callOutcomes.record(summary),
    onFinalised: (reason) => metrics.traceFinalised(reason),
    onLateData: (kind, outcome) => metrics.lateData(kind, outcome),
    exposePii: config.exposePii,
    idleTimeoutMs: config.callIdleTimeoutMs,
    maxPendingCalls: config.maxPendingCalls,
  });
  const handlers = [sinkTestLogger(logger), createCallMetricsRecorder(telemetry.meter, limiter, clock), calls];
  const ingest = new Ingest({ clock, dedup, deadLetters, handlers, metrics, logger });

  const koa = createWebhookApp(config, { ingest, readiness, metrics, logger });
  const handleRequest = koa.callback();
  // Koa's handler settles its own errors (ctx.onerror); node:http ignores the returned promise either way.
  const webhookServer = createHttpServer((req, res) => void handleRequest(req, res));
  // Twilio waits 5 s for an answer; a client holding a request open longer is not Twilio.
  webhookServer.requestTimeout = 30_000;
  webhookServer.headersTimeout = 10_000;
  webhookServer.keepAliveTimeout = 65_000;
  const metricsServer = createMetricsServer(telemetry.prometheus);
  let sweepTimer: NodeJS.Timeout | undefined;

  return {
    readiness,
    ingest,
    telemetry,
    metrics,
    callOutcomes,
    calls,
    traces,
    async start() {
      const webhookPort = await listen(webhookServer, config.port, config.host);
      const metricsPort = await listen(metricsServer, config.metricsPort, config.metricsHost);
      sweepTimer = setInterval(() => {
        calls.sweep().catch((err: unknown) => logger.error({ err }, 'idle call sweep failed'));
      }, SWEEP_INTERVAL_MS);
      sweepTimer.unref();
      readiness.clear('starting');
      return { webhookPort, metricsPort };
    },
    async stop() {
      readiness.set('shutdown', 'shutting down');
      if (sweepTimer !== undefined) clearInterval(sweepTimer);
      await Promise.all([close(webhookServer), close(metricsServer)]);
      await deadLetters.close();
      await traces
        .flush(2_000)
        .catch((err: unknown) => logger.warn({ err: String(err) }, 'trace export queue not drained at shutdown'));
      await traces.shutdown();
      await telemetry.shutdown();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive connections with no request in flight would otherwise hold close() open.
    server.closeIdleConnections();
  });
}
