// `npm run bench [-- --quick] [-- --json FILE]`: the exporter against a bare Koa baseline on this
// machine, in the same run, A/B alternated. See the README's Performance section for what is measured.
import { statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runScenario, type ScenarioResult, type ScenarioSpec, type ServerKey, type Target } from './ab.js';
import {
  installCleanup,
  killAll,
  startBenchServer,
  startExporter,
  tempDir,
  type Child,
  type Exporter,
  type StoreKind,
} from './children.js';
import { selfGauges } from './http-get.js';
import { runOpenLoop, type OpenLoopRow } from './open-loop.js';
import { rssBytes } from './proc.js';
import { runRecovery, type RecoveryResult } from './recovery.js';
import { renderReplicas, runReplicas, type ReplicasResult } from './replicas.js';
import { evaluateTargets, renderReport, type BenchReport, type HeldState } from './report.js';
import { runScrape, type ScrapeResult } from './scrape.js';
import { MiB } from './stats.js';
import { BodyPool, Cursor, type Signer } from './traffic.js';

interface Mode {
  name: 'full' | 'quick';
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  openLoopSeconds: number;
  recoveryCalls: number;
  recoveryLoadSeconds: number;
  scrapes: number;
}

const MODES: Record<'full' | 'quick', Mode> = {
  full: {
    name: 'full',
    rounds: 2,
    seconds: 4,
    warmupSeconds: 1,
    openLoopSeconds: 4,
    recoveryCalls: 100_000,
    recoveryLoadSeconds: 3,
    scrapes: 10,
  },
  quick: {
    name: 'quick',
    rounds: 1,
    seconds: 1,
    warmupSeconds: 0.3,
    openLoopSeconds: 1,
    recoveryCalls: 10_000,
    recoveryLoadSeconds: 1,
    scrapes: 3,
  },
};

const SIGNER: Signer = { token: 'bench-auth-token', publicUrl: 'https://voice-insights.example.com/events' };
const SINGLE_CONCURRENCY = 32;
const BATCH_CONCURRENCY = 8;
const BATCH_EVENTS = 50;

const T0 = performance.now();

function log(line: string): void {
  process.stderr.write(`[${((performance.now() - T0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } },
    strict: true,
  });
  const mode = MODES[values.quick === true ? 'quick' : 'full'];
  installCleanup();
  const started = performance.now();
  log(`bench (${mode.name}): starting the OTLP sink, the baseline and two exporters`);
  const sink = await startBenchServer('otlp-sink');
  const baseline = await startBenchServer('baseline-server');
  const exporters = new Map<StoreKind, Exporter>();
  for (const store of ['embedded', 'memory'] as const) {
    exporters.set(
      store,
      await startExporter({ store, dataDir: tempDir(`vie-bench-${store}-`), ...SIGNER, sinkPort: sink.port }),
    );
  }
  const emptyRssBytes = rssBytes(exporters.get('embedded')?.pid ?? -1);
  const target = (key: ServerKey, child: Child): Target => ({ key, pid: child.pid, port: child.port });
  const embedded = exporters.get('embedded');
  const memory = exporters.get('memory');
  if (embedded === undefined || memory === undefined) throw new Error('exporters did not start');
  const targets = [target('baseline', baseline), target('embedded', embedded), target('memory', memory)];

  const pools = { single: new BodyPool(SIGNER, 1001, 1), batch: new BodyPool(SIGNER, 2002, BATCH_EVENTS) };
  const t0 = performance.now();
  pools.single.ensure(20_000);
  pools.batch.ensure(400);
  log(
    `  traffic: ${pools.single.size} single-event and ${pools.batch.size} 50-event bodies signed in ${Math.round(performance.now() - t0)} ms`,
  );
  const cursors = {
    single: cursorsFor(pools.single),
    batch: cursorsFor(pools.batch),
  };

  const scenarios: ScenarioResult[] = [];
  const specs: ScenarioSpec[] = [
    {
      key: 'single',
      title: '(a) one event per request, as Twilio delivers today',
      eventsPerRequest: 1,
      concurrency: SINGLE_CONCURRENCY,
      rounds: mode.rounds,
      seconds: mode.seconds,
      warmupSeconds: mode.warmupSeconds,
    },
    {
      key: 'batch',
      title: `(b) ${BATCH_EVENTS} events per request`,
      eventsPerRequest: BATCH_EVENTS,
      concurrency: BATCH_CONCURRENCY,
      rounds: mode.rounds,
      seconds: mode.seconds,
      warmupSeconds: mode.warmupSeconds,
    },
  ];
  for (const spec of specs) {
    log(`${spec.title}: ${spec.rounds} round(s) of ${spec.seconds} s per server, ${spec.concurrency} concurrent`);
    scenarios.push(await runScenario(spec, targets, (key) => cursors[spec.key][key], log));
  }

  log("open loop: one event per request at half of each exporter's maximum");
  const single = scenarios[0];
  const maxOf = (key: ServerKey) => single?.servers.find((s) => s.server === key)?.reqPerS ?? 0;
  const openLoop: OpenLoopRow[] = [];
  const plan: [Target, number][] = [
    [target('baseline', baseline), Math.round(maxOf('embedded') / 2)],
    [target('embedded', embedded), Math.round(maxOf('embedded') / 2)],
    [target('memory', memory), Math.round(maxOf('memory') / 2)],
  ];
  for (const [t, rate] of plan) {
    const row = await runOpenLoop(
      t,
      Math.max(1, rate),
      mode.openLoopSeconds,
      mode.warmupSeconds,
      cursors.single[t.key],
    );
    log(`  ${t.key}: ${Math.round(row.achievedPerS)}/s, p99 ${Math.round(row.p99Us)} us`);
    openLoop.push(row);
  }
  const floor = openLoop.find((o) => o.server === 'baseline');
  for (const row of openLoop) row.p99RatioToBaseline = row.p99Us / (floor?.p99Us ?? Number.NaN);
  const held: HeldState[] = [];
  for (const ex of [embedded, memory]) {
    const store = join(ex.dataDir, 'state.sqlite');
    const gauges = await selfGauges(ex.metricsPort, ['calls_in_flight', 'dedup_ids']);
    held.push({
      server: ex === embedded ? 'embedded' : 'memory',
      callsInFlight: gauges.calls_in_flight,
      dedupIds: gauges.dedup_ids,
      rssMiB: rssBytes(ex.pid) / MiB,
      storeMiB: (fileSize(store) + fileSize(`${store}-wal`)) / MiB,
    });
  }
  const startup = {
    embeddedReadyMs: embedded.readyMs,
    memoryReadyMs: memory.readyMs,
    embeddedRssMiB: emptyRssBytes / MiB,
  };
  for (const child of [baseline, embedded, memory]) await child.kill();

  log('replicas: 3 exporters on one Redis (round-robin) against 1 exporter on the embedded store');
  const replicas: ReplicasResult = await runReplicas({
    signer: SIGNER,
    sinkPort: sink.port,
    concurrency: SINGLE_CONCURRENCY,
    rounds: mode.rounds,
    seconds: mode.seconds,
    warmupSeconds: mode.warmupSeconds,
    log,
  });

  log('scrape: /metrics with every open label at METRIC_LABEL_MAX_VALUES');
  const scrape: ScrapeResult = await runScrape({ signer: SIGNER, sinkPort: sink.port, scrapes: mode.scrapes, log });

  log(`memory and recovery: ${mode.recoveryCalls} calls in flight`);
  const recovery: RecoveryResult = await runRecovery({
    signer: SIGNER,
    sinkPort: sink.port,
    calls: mode.recoveryCalls,
    loadSeconds: mode.recoveryLoadSeconds,
    startup,
    log,
  });
  const sinkCounts = parseSinkCounts(await sink.terminate());

  const report: BenchReport = {
    mode: mode.name,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    client: { singleConcurrency: SINGLE_CONCURRENCY, batchConcurrency: BATCH_CONCURRENCY, batchEvents: BATCH_EVENTS },
    scenarios,
    openLoop,
    held,
    scrape,
    recovery,
    sink: sinkCounts,
    totalSeconds: (performance.now() - started) / 1000,
  };
  report.targets = evaluateTargets(report);
  process.stdout.write(renderReport(report));
  process.stdout.write(`\n${renderReplicas(replicas)}`);
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ ...report, replicas }, null, 2)}\n`);
}

/** The sink's last line: {"requests":N,"bytes":N}. */
function parseSinkCounts(output: string): { requests: number; bytes: number } {
  const last = output.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as { requests?: unknown; bytes?: unknown };
    return { requests: Number(parsed.requests), bytes: Number(parsed.bytes) };
  } catch {
    return { requests: Number.NaN, bytes: Number.NaN };
  }
}

function fileSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

function cursorsFor(pool: BodyPool): Record<ServerKey, Cursor> {
  return { baseline: new Cursor(pool, true), embedded: new Cursor(pool, false), memory: new Cursor(pool, false) };
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killAll();
    process.exit(1);
  },
);
