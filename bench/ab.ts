// One throughput scenario, A/B alternated: every round runs the baseline, then each exporter, for the
// same time with the same client settings, so drift on this shared machine hits all of them. Figures
// per server are over all its rounds: requests / seconds, latency quantiles over every request, CPU
// seconds summed, peak RSS the highest of its runs.
import { LoadClient, type RunResult } from './client.js';
import { Usage } from './proc.js';
import { MiB, quantile, sortedConcat } from './stats.js';
import type { Cursor } from './traffic.js';

export type ServerKey = 'baseline' | 'embedded' | 'memory';

export const SERVER_LABEL: Record<ServerKey, string> = {
  baseline: 'baseline (bare Koa)',
  embedded: 'exporter (embedded)',
  memory: 'exporter (memory:)',
};

export interface Target {
  key: ServerKey;
  pid: number;
  port: number;
}

export interface ScenarioSpec {
  key: 'single' | 'batch';
  title: string;
  eventsPerRequest: number;
  concurrency: number;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
}

export interface ServerFigures {
  server: ServerKey;
  requests: number;
  events: number;
  seconds: number;
  reqPerS: number;
  eventsPerS: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  cpuSeconds: number;
  cpuUsPerRequest: number;
  peakRssMiB: number;
  non2xx: number;
  /** Requests per second in each round, in order: the spread shows the noise. */
  reqPerSByRound: number[];
  /** Runs cut short because the pre-generated bodies ran out (0 expected). */
  exhaustedRuns: number;
}

/** Each figure of an exporter divided by the baseline's in the same scenario. */
export interface Ratios {
  reqPerS: number;
  eventsPerS: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  cpuSeconds: number;
  cpuUsPerRequest: number;
  peakRssMiB: number;
}

export interface ScenarioResult {
  spec: ScenarioSpec;
  servers: ServerFigures[];
  /** exporter/baseline, per exporter. */
  ratios: Partial<Record<ServerKey, Ratios>>;
}

export function ratios(f: ServerFigures, base: ServerFigures): Ratios {
  return {
    reqPerS: f.reqPerS / base.reqPerS,
    eventsPerS: f.eventsPerS / base.eventsPerS,
    p50Us: f.p50Us / base.p50Us,
    p99Us: f.p99Us / base.p99Us,
    maxUs: f.maxUs / base.maxUs,
    cpuSeconds: f.cpuSeconds / base.cpuSeconds,
    cpuUsPerRequest: f.cpuUsPerRequest / base.cpuUsPerRequest,
    peakRssMiB: f.peakRssMiB / base.peakRssMiB,
  };
}

interface Run {
  result: RunResult;
  cpuSeconds: number;
  peakRssBytes: number;
}

function figures(server: ServerKey, runs: readonly Run[]): ServerFigures {
  const requests = runs.reduce((n, r) => n + r.result.requests, 0);
  const events = runs.reduce((n, r) => n + r.result.events, 0);
  const seconds = runs.reduce((n, r) => n + r.result.seconds, 0);
  const cpuSeconds = runs.reduce((n, r) => n + r.cpuSeconds, 0);
  const latencies = sortedConcat(runs.map((r) => r.result.latenciesUs));
  return {
    server,
    requests,
    events,
    seconds,
    reqPerS: requests / seconds,
    eventsPerS: events / seconds,
    p50Us: quantile(latencies, 0.5),
    p99Us: quantile(latencies, 0.99),
    maxUs: quantile(latencies, 1),
    cpuSeconds,
    cpuUsPerRequest: (cpuSeconds / requests) * 1e6,
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssBytes)) / MiB,
    non2xx: runs.reduce((n, r) => n + r.result.non2xx, 0),
    reqPerSByRound: runs.map((r) => r.result.requests / r.result.seconds),
    exhaustedRuns: runs.filter((r) => r.result.exhausted).length,
  };
}

export async function runScenario(
  spec: ScenarioSpec,
  targets: readonly Target[],
  cursorOf: (key: ServerKey) => Cursor,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  // Bodies needed per second of a run, learnt from the warm-up; a generous first guess.
  const rate = new Map<ServerKey, number>(targets.map((t) => [t.key, spec.eventsPerRequest === 1 ? 8000 : 400]));
  const runs = new Map<ServerKey, Run[]>(targets.map((t) => [t.key, []]));
  const once = async (target: Target, seconds: number): Promise<Run> => {
    const cursor = cursorOf(target.key);
    cursor.reserve(Math.ceil((rate.get(target.key) ?? 0) * seconds * 1.5) + spec.concurrency);
    // A fresh agent per run: no keep-alive socket the server closed while another server ran is reused.
    const client = new LoadClient(target.port, spec.concurrency);
    const usage = new Usage(target.pid);
    const result = await client
      .closedLoop({ concurrency: spec.concurrency, durationMs: seconds * 1000, next: () => cursor.next() })
      .finally(() => client.close());
    const used = usage.end();
    rate.set(target.key, Math.max(rate.get(target.key) ?? 0, result.requests / result.seconds));
    return { result, cpuSeconds: used.cpuSeconds, peakRssBytes: used.peakRssBytes };
  };
  for (const target of targets) await once(target, spec.warmupSeconds);
  for (let round = 1; round <= spec.rounds; round++) {
    for (const target of targets) {
      const run = await once(target, spec.seconds);
      runs.get(target.key)?.push(run);
      const r = run.result;
      log(
        `  ${spec.key} round ${round} ${SERVER_LABEL[target.key].padEnd(20)} ` +
          `${Math.round(r.requests / r.seconds)} req/s, non-2xx ${r.non2xx}${r.exhausted ? ' (bodies ran out)' : ''}`,
      );
    }
  }
  const servers = targets.map((t) => figures(t.key, runs.get(t.key) ?? []));
  const base = servers.find((f) => f.server === 'baseline');
  const byServer: Partial<Record<ServerKey, Ratios>> = {};
  if (base !== undefined) for (const f of servers) if (f !== base) byServer[f.server] = ratios(f, base);
  return { spec, servers, ratios: byServer };
}
