// Composition root: builds and wires the parts; no behaviour of its own.
// Closures below may name parts built further down: they only run once everything exists.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CallAssembler, type CallEffect } from './calls/assembler.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { createWebhookHttpServer } from './http/http-server.js';
import { createWebhookApp } from './http/server.js';
import type { Logger } from './logger.js';
import { Backpressure } from './pipeline/backpressure.js';
import { sinkTestLogger } from './pipeline/handlers.js';
import { Ingest } from './pipeline/ingest.js';
import { Readiness } from './pipeline/readiness.js';
import { maskStoreUrl } from './config.js';
import { FileDeadLetterSink } from './store/dead-letter.js';
import { MemoryPersistence } from './store/memory-persistence.js';
import type { Persistence } from './store/persistence.js';
import { RedisStore } from './store/redis/redis-store.js';
import { SqlitePersistence } from './store/sqlite-persistence.js';
import { StagedStore } from './store/staged-store.js';
import type { StateStore, StoreTx } from './store/state-store.js';
import { createCallMetricsRecorder } from './telemetry/call-metrics-recorder.js';
import { createCallOutcomeRecorder, type CallOutcomeRecorder } from './telemetry/call-outcome-recorder.js';
import { createConferenceRecorder, type ConferenceRecorder } from './telemetry/conference-recorder.js';
import { LabelLimiter } from './telemetry/label-limiter.js';
import { createMetricsServer } from './telemetry/metrics-server.js';
import { createOtlpSpanExporter } from './telemetry/otlp-traces.js';
import { createTelemetry, type Telemetry } from './telemetry/providers.js';
import { createSelfMetrics, type SelfMetrics } from './telemetry/self-metrics.js';
import { SpanShipper } from './telemetry/span-shipper.js';

/** How often idle calls are looked for at most; small against the 45 min default idle timeout. */
const SWEEP_INTERVAL_MS = 30_000;
/**
 * With a shared store: how long the span-shipper lease lasts unrenewed (another replica takes the outbox
 * over this long after its holder died); renewed before every batch and every few seconds during one.
 */
const SHIPPER_LEASE_MS = 10_000;
const SHIPPER_LEASE_RENEW_MS = 2_000;
const SHIPPER_LEASE = 'span-shipper';
/** How often store counts (self-metrics, bounds) are refreshed, and a failing store is probed. */
const REFRESH_INTERVAL_MS = 1_000;
/** How often expired dedup ids and tombstones are compacted away. */
const COMPACT_INTERVAL_MS = 60_000;

export interface App {
  readiness: Readiness;
  ingest: Ingest<StoreTx>;
  store: StateStore;
  telemetry: Telemetry;
  metrics: SelfMetrics;
  /** Once-per-call metrics; recorded after the commit that finalised the call, exactly once. */
  callOutcomes: CallOutcomeRecorder;
  /** Once-per-conference and once-per-participant metrics; recorded after the commit that finalised the conference. */
  conferenceOutcomes: ConferenceRecorder;
  calls: CallAssembler;
  traces: SpanShipper;
  /** Listens on PORT and METRICS_PORT (0 = any free port) and returns the bound ports. */
  start(): Promise<{ webhookPort: number; metricsPort: number }>;
  /** Stops accepting, lets in-flight requests finish and commit, and closes the store (open calls stay in it). */
  stop(): Promise<void>;
}

function openPersistence(config: Config): Persistence {
  return config.store.kind === 'embedded'
    ? SqlitePersistence.open({ dir: config.dataDir, sync: config.storeSync })
    : new MemoryPersistence();
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
  const deadLetters = new FileDeadLetterSink(config.dataDir, config.deadLetterMaxBytes);
  const holder = randomUUID();
  const sweepIntervalMs = Math.min(SWEEP_INTERVAL_MS, Math.max(1000, Math.floor(config.callIdleTimeoutMs / 4)));
  let store: StateStore;
  // Built before the store: a shared store reports its health while it connects.
  const backpressure = new Backpressure({
    readiness,
    counts: () => store.counts(),
    countsNow: () => store.countsNow(),
    maxBytes: config.storeMaxBytes,
    maxOutboxSpans: config.traces?.queueMaxSpans ?? Number.MAX_SAFE_INTEGER,
    probe: () => store.probe(),
    relieve: () => store.compact(),
  });
  const storeConfig = config.store;
  if (storeConfig.kind === 'redis') {
    try {
      await deadLetters.open();
    } catch (err) {
      logger.error({ err, dataDir: config.dataDir }, 'DATA_DIR is not usable; the webhook answers 503 until it is');
      readiness.set(
        'data_dir',
        `DATA_DIR ${config.dataDir} is not writable: ${err instanceof Error ? err.message : ''}`,
      );
    }
    // Does not fail when the server is out of reach: the store starts unhealthy and recovers by itself.
    const redis = await RedisStore.open({
      url: storeConfig.url,
      keyPrefix: storeConfig.keyPrefix,
      clock,
      dedupTtlMs: config.dedupTtlSeconds * 1000,
      tombstoneTtlMs: config.dedupTtlSeconds * 1000,
      pendingCallTtlMs: Math.max(4 * config.callIdleTimeoutMs, config.dedupTtlSeconds * 1000),
      outboxTtlMs: Math.max(2 * (config.traces?.giveUpAfterMs ?? 0), config.dedupTtlSeconds * 1000),
      onHealth: (err) => backpressure.onFlush(err),
      onOutboxWritten: () => traces.notify(),
    });
    logger.info(
      { store: maskStoreUrl(storeConfig.url), keyPrefix: storeConfig.keyPrefix },
      'state store: shared Redis/Valkey (several replicas may use it)',
    );
    store = redis;
  } else {
    let persistence: Persistence;
    try {
      await deadLetters.open();
      persistence = openPersistence(config);
    } catch (err) {
      logger.error({ err, dataDir: config.dataDir }, 'DATA_DIR is not usable; the webhook answers 503 until it is');
      readiness.set(
        'data_dir',
        `DATA_DIR ${config.dataDir} is not writable: ${err instanceof Error ? err.message : ''}`,
      );
      persistence = new MemoryPersistence();
    }
    if (!persistence.durable)
      logger.warn('STORE_URL=memory: state lives in process memory; a restart loses open calls');
    store = new StagedStore(persistence, {
      clock,
      dedupTtlMs: config.dedupTtlSeconds * 1000,
      tombstoneTtlMs: config.dedupTtlSeconds * 1000,
      onFlush: (err) => backpressure.onFlush(err),
      onOutboxWritten: () => traces.notify(),
    });
  }
  const shared = storeConfig.kind === 'redis';
  await backpressure.refresh();
  readiness.addCheck(() => backpressure.check());
  const metrics = createSelfMetrics(telemetry.meter, {
    dedupIds: () => store.countsNow().dedupIds,
    ready: () => readiness.isReady(),
    callsInFlight: () => store.countsNow().pendingCalls,
    traceQueue: () => store.countsNow().outboxSpans,
  });

  const limiter = new LabelLimiter(config.metricLabelMaxValues, (metric, label) =>
    metrics.labelOverflow(metric, label),
  );
  const callOutcomes = createCallOutcomeRecorder(telemetry.meter, limiter);
  const conferenceOutcomes = createConferenceRecorder(telemetry.meter, limiter);
  const traces = new SpanShipper({
    outbox: store,
    resource: telemetry.resource,
    exporter: config.traces === undefined ? undefined : createOtlpSpanExporter(config.traces.protocol),
    retryInitialMs: config.traces?.retryInitialMs ?? 1000,
    retryMaxMs: 5 * 60_000,
    giveUpAfterMs: config.traces?.giveUpAfterMs ?? 0,
    now: () => clock.now(),
    onExportFailure: () => {
      metrics.exportFailure('traces');
      warnExportFailure();
    },
    onDropped: (reason, spans, detail) => {
      metrics.spansDropped(reason, spans);
      logger.warn({ reason, spans, detail }, 'spans left the outbox unexported');
    },
    // Several replicas on one store: one of them drains at a time, so each entry is exported once.
    mayDrain: shared ? () => store.acquire(SHIPPER_LEASE, holder, SHIPPER_LEASE_MS) : undefined,
    leaseRenewMs: SHIPPER_LEASE_RENEW_MS,
  });
  // One warning a minute at most: a backend outage should be visible in logs without flooding them.
  let lastExportWarning = Number.NEGATIVE_INFINITY;
  const warnExportFailure = () => {
    if (clock.now() - lastExportWarning < 60_000) return;
    lastExportWarning = clock.now();
    logger.warn(
      { waitingSpans: backpressure.counts.outboxSpans },
      'OTLP trace export failed; retrying with backoff. Check OTEL_EXPORTER_OTLP_ENDPOINT',
    );
  };
  const callMetrics = createCallMetricsRecorder(telemetry.meter, limiter, clock);
  const applyEffects = (effects: readonly CallEffect[]) => {
    for (const e of effects) {
      if (e.kind === 'finalised') {
        if (e.summary !== undefined) callOutcomes.record(e.summary);
        metrics.traceFinalised(e.reason);
      } else if (e.kind === 'derived-sample') callMetrics.onDerivedSample(e);
      else if (e.kind === 'conference-finalised') {
        conferenceOutcomes.recordConference(e.summary, e.participants);
        metrics.conferenceFinalised(e.reason);
      } else if (e.kind === 'conference-participants') conferenceOutcomes.recordParticipants(e.participants);
      else metrics.lateData(e.late, e.outcome);
    }
  };
  const calls = new CallAssembler({
    index: store,
    lease: store,
    store,
    clock,
    onEffects: applyEffects,
    exposePii: config.exposePii,
    idleTimeoutMs: config.callIdleTimeoutMs,
    maxPendingCalls: config.maxPendingCalls,
    holder,
    // Three missed sweeps and another replica takes the sweep over.
    sweepLeaseMs: 3 * sweepIntervalMs,
  });
  const observers = [sinkTestLogger(logger), callMetrics];
  const ingest = new Ingest<StoreTx>({
    clock,
    store,
    deadLetters,
    stages: [calls],
    observers,
    metrics,
    logger,
    maxEventsPerRequest: config.maxEventsPerRequest,
  });

  const koa = createWebhookApp(config, { ingest, readiness, metrics, logger, clock });
  const handle = koa.callback();
  const webhookServer = createWebhookHttpServer((req, res) => void handle(req, res), config, {
    onHeadersTimeout: () => metrics.request(408, 0),
  });
  const metricsServer = createMetricsServer(telemetry.prometheus);
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, what: string, fn: () => unknown) => {
    const t = setInterval(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => logger.error({ err }, `${what} failed`));
    }, ms);
    t.unref();
    timers.push(t);
  };

  return {
    readiness,
    ingest,
    store,
    telemetry,
    metrics,
    callOutcomes,
    conferenceOutcomes,
    calls,
    traces,
    async start() {
      const webhookPort = await listen(webhookServer, config.port, config.host);
      const metricsPort = await listen(metricsServer, config.metricsPort, config.metricsHost);
      every(sweepIntervalMs, 'idle call sweep', () => calls.sweep());
      every(REFRESH_INTERVAL_MS, 'store count refresh', async () => {
        await backpressure.refresh();
        // Other replicas write to a shared outbox too; whichever replica holds the lease drains it.
        if (shared && backpressure.counts.outboxEntries > 0) traces.notify();
      });
      every(COMPACT_INTERVAL_MS, 'store compaction', () => store.compact());
      // Entries left by the process before (a crash, a backend outage) go out now.
      traces.notify();
      readiness.clear('starting');
      return { webhookPort, metricsPort };
    },
    async stop() {
      readiness.set('shutdown', 'shutting down');
      for (const t of timers) clearInterval(t);
      await Promise.all([close(webhookServer), close(metricsServer)]);
      await deadLetters.close();
      await traces
        .flush(2_000)
        .catch((err: unknown) =>
          logger.warn({ err: String(err) }, 'span outbox not drained at shutdown; it stays for the next start'),
        );
      await traces.shutdown();
      if (shared) {
        // Hand the sweep and the outbox to the other replicas now rather than after the leases' TTLs.
        await Promise.allSettled([calls.releaseSweep(), store.release(SHIPPER_LEASE, holder)]);
      }
      await store.close();
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
