// The bench's output: plain-text tables (every exporter figure also as a ratio to the baseline measured
// in the same run), the targets with hold/miss, and the same figures as JSON.
import type { ScenarioResult, ServerFigures } from './ab.js';
import { SERVER_LABEL } from './ab.js';
import type { OpenLoopRow } from './open-loop.js';
import type { RecoveryResult } from './recovery.js';
import type { ScrapeResult } from './scrape.js';
import { MiB } from './stats.js';

export interface TargetVerdict {
  name: string;
  goal: string;
  measured: string;
  holds: boolean;
  /** False when this run did not measure what the target is about (quick mode's smaller state). */
  applies: boolean;
}

/** What an exporter holds after the throughput and open-loop runs. */
export interface HeldState {
  server: 'embedded' | 'memory';
  callsInFlight: number;
  /** CloudEvent ids remembered for deduplication (DEDUP_TTL_SECONDS). */
  dedupIds: number;
  rssMiB: number;
  /** state.sqlite + -wal (0 for memory:). */
  storeMiB: number;
}

export interface BenchReport {
  mode: 'full' | 'quick';
  machine: { cpus: number; cpuModel: string; node: string };
  client: { singleConcurrency: number; batchConcurrency: number; batchEvents: number };
  scenarios: ScenarioResult[];
  openLoop: OpenLoopRow[];
  held: HeldState[];
  scrape: ScrapeResult;
  recovery: RecoveryResult;
  /** What the OTLP sink received over the whole run: the exporters' trace exports. */
  sink: { requests: number; bytes: number };
  targets?: TargetVerdict[];
  totalSeconds: number;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const times = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a');

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const SCENARIO_HEADERS = [
  'server',
  'req/s',
  'events/s',
  'p50 us',
  'p99 us',
  'max us',
  'CPU s',
  'CPU us/req',
  'peak RSS MiB',
  'non-2xx',
];

function scenarioRows(s: ScenarioResult): string[][] {
  const rows: string[][] = [];
  for (const f of s.servers) {
    rows.push([
      SERVER_LABEL[f.server],
      int(f.reqPerS),
      int(f.eventsPerS),
      int(f.p50Us),
      int(f.p99Us),
      int(f.maxUs),
      fixed(f.cpuSeconds, 1),
      int(f.cpuUsPerRequest),
      int(f.peakRssMiB),
      int(f.non2xx),
    ]);
    const r = s.ratios[f.server];
    if (r !== undefined) {
      rows.push([
        '  ratio exporter/baseline',
        ...[r.reqPerS, r.eventsPerS, r.p50Us, r.p99Us, r.maxUs, r.cpuSeconds, r.cpuUsPerRequest, r.peakRssMiB].map(
          times,
        ),
      ]);
    }
  }
  return rows;
}

function figuresOf(r: BenchReport, scenario: 'single' | 'batch', server: ServerFigures['server']) {
  return r.scenarios.find((s) => s.spec.key === scenario)?.servers.find((f) => f.server === server);
}

export function evaluateTargets(r: BenchReport): TargetVerdict[] {
  const targets: TargetVerdict[] = [];
  for (const exporter of ['embedded', 'memory'] as const) {
    const label = SERVER_LABEL[exporter];
    const single = figuresOf(r, 'single', exporter);
    const singleBase = figuresOf(r, 'single', 'baseline');
    const a = (single?.reqPerS ?? Number.NaN) / (singleBase?.reqPerS ?? Number.NaN);
    targets.push({
      name: `(a) one event per request, ${label}`,
      goal: '>= 0.70x baseline req/s',
      measured: `${fixed(a, 2)}x`,
      holds: a >= 0.7,
      applies: true,
    });
    const batch = figuresOf(r, 'batch', exporter);
    const batchBase = figuresOf(r, 'batch', 'baseline');
    const b = (batch?.eventsPerS ?? Number.NaN) / (batchBase?.eventsPerS ?? Number.NaN);
    targets.push({
      name: `(b) ${r.client.batchEvents}-event batches, ${label}`,
      goal: '>= 0.50x baseline events/s',
      measured: `${fixed(b, 2)}x`,
      holds: b >= 0.5,
      applies: true,
    });
    const open = r.openLoop.find((o) => o.server === exporter);
    const p99Ms = (open?.p99Us ?? Number.NaN) / 1000;
    targets.push({
      name: `p99 at half max, ${label}`,
      goal: '<= 10 ms',
      measured: `${fixed(p99Ms, 2)} ms`,
      holds: p99Ms <= 10 && (open?.non2xx ?? 1) === 0,
      applies: true,
    });
  }
  const rec = r.recovery;
  const full = rec.calls >= 100_000;
  const rss = Math.max(rec.rssAtReadyMiB, rec.peakRssUnderLoadMiB, rec.rssAfterRestartMiB);
  targets.push({
    name: `${int(rec.calls)} calls in flight, RSS (embedded)`,
    goal: '<= 512 MiB at 100,000 calls',
    measured: `${int(rss)} MiB`,
    holds: rss <= 512,
    applies: full,
  });
  targets.push({
    name: `${int(rec.calls)} calls in flight, ready after SIGKILL`,
    goal: '<= 10 s at 100,000 calls',
    measured: `${fixed(rec.readyAfterKillMs / 1000, 2)} s`,
    holds: rec.readyAfterKillMs <= 10_000 && rec.callsInFlightAfterRestart >= rec.calls,
    applies: full,
  });
  for (const c of r.scrape.cases) {
    targets.push({
      name: `/metrics render, labels at bound (${c.name}, ${int(c.series)} series)`,
      goal: '<= 50 ms',
      measured: `p50 ${fixed(c.p50Ms, 1)} ms, max ${fixed(c.maxMs, 1)} ms`,
      holds: c.maxMs <= 50,
      applies: true,
    });
  }
  return targets;
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const single = r.scenarios[0]?.spec;
  out.push(
    `voice-insights-exporter bench (${r.mode}): ${single?.rounds ?? 0} round(s) x ${single?.seconds ?? 0} s per server ` +
      `and scenario, A/B alternated; ${r.machine.cpus} CPUs (${r.machine.cpuModel}) shared by client and servers; ` +
      `node ${r.machine.node}; ${fixed(r.totalSeconds, 0)} s in all`,
    '',
  );
  for (const s of r.scenarios) {
    out.push(`${s.spec.title} (${s.spec.concurrency} concurrent, keep-alive, loopback)`);
    out.push(table(SCENARIO_HEADERS, scenarioRows(s)), '');
  }

  out.push(
    "open loop: one event per request at a fixed rate, half of each exporter's maximum above (latency from scheduled send)",
  );
  out.push(
    table(
      ['server', 'rate/s', 'achieved/s', 'p50 us', 'p99 us', 'max us', 'non-2xx', 'client lag p99 us', 'p99 ratio'],
      r.openLoop.map((o) => [
        SERVER_LABEL[o.server],
        int(o.ratePerS),
        int(o.achievedPerS),
        int(o.p50Us),
        int(o.p99Us),
        int(o.maxUs),
        int(o.non2xx),
        int(o.clientLagP99Us),
        o.server === 'baseline' ? '' : times(o.p99RatioToBaseline ?? Number.NaN),
      ]),
    ),
    '',
  );

  out.push('state held after those runs: calls waiting for their complete summary, event ids kept for dedup');
  out.push(
    table(
      ['server', 'calls in flight', 'dedup ids', 'RSS MiB', 'store on disk MiB'],
      r.held.map((h) => [
        SERVER_LABEL[h.server],
        int(h.callsInFlight),
        int(h.dedupIds),
        int(h.rssMiB),
        int(h.storeMiB),
      ]),
    ),
    '',
  );

  const rec = r.recovery;
  out.push(
    `memory and recovery: ${int(rec.calls)} calls in flight, ${rec.eventsPerCall} events each ` +
      `(10 call events, 3 metric samples, 1 partial summary), embedded store`,
  );
  out.push(
    table(
      ['figure', 'value'],
      [
        ['RSS at ready', `${int(rec.rssAtReadyMiB)} MiB`],
        ['  (empty DATA_DIR, at ready)', `${int(rec.emptyRssMiB)} MiB`],
        [`peak RSS under load (new call events for held calls)`, `${int(rec.peakRssUnderLoadMiB)} MiB`],
        ['  ratio highest RSS / empty', times(rec.rssRatioToEmpty)],
        [
          '  load: events/s, p99 us, non-2xx',
          `${int(rec.loadEventsPerS)}, ${int(rec.loadP99Us)}, ${int(rec.loadNon2xx)}`,
        ],
        [
          'store on disk (state.sqlite + -wal)',
          `${int(rec.storeBytes / MiB)} MiB (STORE_MAX_BYTES ${int(rec.storeMaxBytes / MiB)} MiB)`,
        ],
        ['  per call', `${int(rec.storeBytes / rec.calls)} bytes`],
        ['spawn to ready, first start on this DATA_DIR', `${int(rec.firstReadyMs)} ms`],
        ['spawn to ready after SIGKILL', `${int(rec.readyAfterKillMs)} ms`],
        ['  calls in flight after the restart', int(rec.callsInFlightAfterRestart)],
        ['  RSS at ready after the restart', `${int(rec.rssAfterRestartMiB)} MiB`],
        [
          'spawn to ready, empty DATA_DIR (embedded / memory:)',
          `${int(rec.emptyEmbeddedReadyMs)} / ${int(rec.emptyMemoryReadyMs)} ms`,
        ],
        ['  ratio after SIGKILL / empty embedded', times(rec.readyAfterKillRatioToEmpty)],
        [
          'DATA_DIR build (not the exporter)',
          `${fixed(rec.buildSeconds, 1)} s, ${rec.verifiedCalls} calls checked against ingest`,
        ],
      ],
    ),
    '',
  );

  out.push(`scrape: GET /metrics with every open label at METRIC_LABEL_MAX_VALUES (${r.scrape.maxValuesPerLabel})`);
  out.push(
    table(
      ['labels', 'events sent', 'series', 'bytes', 'scrapes', 'p50 ms', 'max ms', 'CPU ms/scrape'],
      r.scrape.cases.map((c) => [
        c.name === 'aligned'
          ? 'aligned (value k of each label together)'
          : 'cross (every pair; SDK cap 2000 per metric)',
        int(c.eventsSent),
        int(c.series),
        int(c.bytes),
        int(c.scrapes),
        fixed(c.p50Ms, 1),
        fixed(c.maxMs, 1),
        fixed(c.cpuMsPerScrape, 1),
      ]),
    ),
    '',
  );

  out.push(
    `OTLP sink: ${int(r.sink.requests)} trace export requests, ${fixed(r.sink.bytes / MiB, 1)} MiB, over the whole run`,
    '',
  );
  out.push('targets (goals for the code, not pass/fail of this run)');
  out.push(
    table(
      ['target', 'goal', 'measured', 'verdict'],
      (r.targets ?? evaluateTargets(r)).map((t) => [
        t.name,
        t.goal,
        t.measured,
        !t.applies ? 'n/a (quick)' : t.holds ? 'holds' : 'MISSED',
      ]),
    ),
    '',
  );
  return `${out.join('\n')}\n`;
}
