// Real Prometheus components for tests: `promtool check metrics` as the arbiter of exposition
// format, and a throwaway Prometheus server (own loopback port, own temp TSDB) that scrapes the
// exporter so PromQL in docs, dashboards and alert rules is evaluated against what we really emit.
// Both come from Debian's `prometheus` package (2.42); tests fail, never skip, when it is missing,
// because a silently skipped format check is worse than none.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './child.js';

// One port picker for all support code; re-exported so Prometheus-only tests need one import.
export { freePort };

// Overridable so a developer with a non-Debian install can point at their own binaries.
const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';
const PROMETHEUS = process.env['PROMETHEUS'] ?? 'prometheus';

export const INSTALL_HINT =
  'run `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus` ' +
  '(Debian package: provides prometheus 2.42 and promtool; .ci/run installs it in CI)';

function binaryWorks(bin: string): boolean {
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore', timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

export function promtoolAvailable(): boolean {
  return binaryWorks(PROMTOOL);
}

export function prometheusAvailable(): boolean {
  return binaryWorks(PROMETHEUS);
}

function missingBinaryError(bin: string): Error {
  return new Error(`\`${bin}\` is not installed or not on PATH: ${INSTALL_HINT}`);
}

// ---------------------------------------------------------------------------------------------
// promtool

export interface PromtoolResult {
  /** Exit status 0: no parse errors and no lint problems. */
  ok: boolean;
  /**
   * promtool 2.42 exits 1 on parse errors and 3 when the text parses but has lint problems
   * (missing HELP, counter without `_total`, ...), so callers can tell the two apart.
   */
  exitCode: number;
  /** stdout and stderr together, trimmed; empty for a clean exposition. */
  output: string;
}

/** Pipes exposition text into `promtool check metrics`. */
export function promtoolCheckMetrics(text: string): Promise<PromtoolResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? missingBinaryError(PROMTOOL) : err);
    });
    // promtool may stop reading at the first parse error; EPIPE then is expected, not a failure.
    child.stdin.on('error', () => undefined);
    child.once('close', (code, signal) => {
      if (code === null) {
        reject(new Error(`promtool killed by ${signal ?? 'unknown signal'}: ${output}`));
        return;
      }
      resolveResult({ ok: code === 0, exitCode: code, output: output.trim() });
    });
    child.stdin.end(text);
  });
}

// ---------------------------------------------------------------------------------------------
// Prometheus HTTP API types (the subset tests use), see https://prometheus.io/docs/prometheus/latest/querying/api/

/** [unix seconds, value as Prometheus prints it: "1.5", "NaN", "+Inf"]. */
export type PromSamplePair = [number, string];

export interface PromVectorSample {
  metric: Record<string, string>;
  value: PromSamplePair;
}

export interface PromMatrixSeries {
  metric: Record<string, string>;
  values: PromSamplePair[];
}

export type PromResult =
  | { resultType: 'vector'; result: PromVectorSample[] }
  | { resultType: 'matrix'; result: PromMatrixSeries[] }
  | { resultType: 'scalar'; result: PromSamplePair }
  | { resultType: 'string'; result: [number, string] };

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'inactive' | 'pending' | 'firing';
  activeAt?: string;
  value: string;
}

export interface PromTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
}

export interface PromRuleGroup {
  name: string;
  file: string;
  rules: {
    name: string;
    query: string;
    type: 'alerting' | 'recording';
    health: string;
    lastError?: string;
    state?: string;
  }[];
}

/** An API answer with status "error" (bad PromQL and the like); the message is Prometheus' own. */
export class PrometheusApiError extends Error {
  constructor(
    readonly errorType: string,
    readonly apiMessage: string,
    readonly httpStatus: number,
  ) {
    super(`Prometheus API ${errorType} (HTTP ${httpStatus}): ${apiMessage}`);
    this.name = 'PrometheusApiError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A caught value as text, Errors as `name: message` like String() gives them. Not by instanceof: fetch's errors come from another realm than the test's. */
function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') {
    const name = 'name' in err && typeof err.name === 'string' ? err.name : 'Error';
    return err.message === '' ? name : `${name}: ${err.message}`;
  }
  return typeof err === 'string' ? err : JSON.stringify(err);
}

// Checks the envelope and the discriminant only: Prometheus is the trusted side here; the point is
// to fail with a readable message instead of a TypeError deep in a predicate.
function toPromResult(data: unknown): PromResult {
  if (!isRecord(data)) throw new Error(`unexpected query data: ${JSON.stringify(data)}`);
  const { resultType, result } = data;
  switch (resultType) {
    case 'vector':
    case 'matrix':
      if (!Array.isArray(result)) break;
      return data as PromResult;
    case 'scalar':
    case 'string':
      if (!Array.isArray(result) || result.length !== 2) break;
      return data as PromResult;
    default:
      break;
  }
  throw new Error(`unexpected query data: ${JSON.stringify(data)}`);
}

/** The numeric values of a vector (one per series) or scalar result; [] for an empty vector. */
export function resultValues(r: PromResult): number[] {
  switch (r.resultType) {
    case 'vector':
      return r.result.map((s) => Number(s.value[1]));
    case 'scalar':
      return [Number(r.result[1])];
    case 'matrix':
      throw new Error('resultValues: matrix results have many values per series; read r.result');
    case 'string':
      throw new Error('resultValues: string result');
  }
}

// ---------------------------------------------------------------------------------------------
// Prometheus server

export interface StartPrometheusOptions {
  /** host:port of /metrics endpoints to scrape. */
  targets: string[];
  /** Scrape and rule-evaluation interval (default 1). */
  scrapeIntervalSeconds?: number;
  /** Rule files (alerting/recording), loaded as given; relative paths resolve against cwd. */
  ruleFiles?: string[];
  extraArgs?: string[];
  /** How long to wait for /-/ready (default 30 000 ms). */
  readyTimeoutMs?: number;
}

export interface PrometheusHandle {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  pid: number;
  /** Temp dir holding prometheus.yml and the TSDB; removed by stop(). */
  dir: string;
  configFile: string;
  /** GET /api/v1/query; throws PrometheusApiError with Prometheus' message unless status is success. */
  query(promql: string, timeSeconds?: number): Promise<PromResult>;
  /** GET /api/v1/query_range; times in unix seconds. */
  queryRange(promql: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<PromResult>;
  /**
   * Polls `query` until the predicate holds; returns that result. Invalid PromQL fails at once;
   * on timeout the error carries the last result and the targets' health for diagnosis.
   */
  waitForQuery(promql: string, predicate: (r: PromResult) => boolean, timeoutMs: number): Promise<PromResult>;
  targets(): Promise<PromTarget[]>;
  /** True when every configured target has been scraped successfully at least once and is up. */
  targetsUp(): Promise<boolean>;
  waitForTargetsUp(timeoutMs: number): Promise<void>;
  alerts(): Promise<PromAlert[]>;
  rules(): Promise<PromRuleGroup[]>;
  /** POST /-/reload (lifecycle API is enabled) after rewriting rule files in place. */
  reload(): Promise<void>;
  /** Prometheus' own log so far (last ~64 KiB), for assertion messages. */
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after 10 s), remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

// Last line of defence if a test file crashes before its `after` hook: never leave a Prometheus
// behind holding a port and a temp TSDB. 'exit' handlers must be synchronous, hence SIGKILL.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

const LOG_LIMIT = 64 * 1024;

function prometheusConfig(opts: StartPrometheusOptions): string {
  const interval = `${opts.scrapeIntervalSeconds ?? 1}s`;
  // JSON is valid YAML, and it quotes every string correctly for free.
  const config = {
    global: {
      scrape_interval: interval,
      // Must not exceed the interval, and the 10 s default does for short test intervals.
      scrape_timeout: interval,
      evaluation_interval: interval,
    },
    rule_files: (opts.ruleFiles ?? []).map((f) => resolve(f)),
    scrape_configs: [
      {
        job_name: 'voice-insights-exporter',
        metrics_path: '/metrics',
        static_configs: [{ targets: opts.targets }],
      },
    ],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

// Ready (/-/ready) takes ~0.1-0.2 s here, but the first scrape lands ~5 s later whatever the
// scrape interval: Prometheus 2.42 hands discovered targets to the scrape manager on a fixed 5 s tick
// (no flag to shorten it). Give the first waitForQuery 15 s or more.
export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusHandle> {
  if (opts.targets.length === 0) throw new Error('startPrometheus: at least one target');
  const dir = await mkdtemp(join(tmpdir(), 'vie-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig(opts));
  try {
    // freePort() can race with another process taking the port before Prometheus binds it;
    // such a start fails fast, so a couple of retries make that race harmless.
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(opts, dir, configFile);
      } catch (err) {
        if (attempt < 3 && err instanceof Error && /address already in use/.test(err.message)) continue;
        throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(opts: StartPrometheusOptions, dir: string, configFile: string): Promise<PrometheusHandle> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // Default 1m would make alert tests wait a minute between notifications.
    '--rules.alert.resend-delay=1s',
    '--web.enable-lifecycle',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(PROMETHEUS, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (c: string): void => {
    log += c;
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolveExit();
    });
  });
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => {
    spawnError = err;
  });
  track(child);

  const kill = async (): Promise<void> => {
    if (exited === undefined && spawnError === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    }
  };

  // Bounded polling of the readiness endpoint; Prometheus answers 503 until TSDB and rules load.
  const readyDeadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (spawnError !== undefined) {
      throw spawnError.code === 'ENOENT' ? missingBinaryError(PROMETHEUS) : spawnError;
    }
    if (exited !== undefined) {
      throw new Error(`prometheus exited (code ${exited.code}, signal ${exited.signal}) before ready:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > readyDeadline) {
      await kill();
      throw new Error(`prometheus not ready at ${url} within ${opts.readyTimeoutMs ?? 30_000} ms:\n${log}`);
    }
    await sleep(50);
  }
  if (child.pid === undefined) throw new Error('prometheus has no pid');
  const pid = child.pid;

  async function api(path: string, params: Record<string, string>): Promise<unknown> {
    const qs = new URLSearchParams(params).toString();
    const res = await fetch(`${url}/api/v1/${path}${qs === '' ? '' : `?${qs}`}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`Prometheus /api/v1/${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`);
    }
    if (!isRecord(body)) throw new Error(`Prometheus /api/v1/${path}: unexpected body ${text.slice(0, 500)}`);
    if (body['status'] !== 'success') {
      const errorType = body['errorType'];
      const error = body['error'];
      throw new PrometheusApiError(
        typeof errorType === 'string' ? errorType : 'unknown',
        typeof error === 'string' ? error : text,
        res.status,
      );
    }
    return body['data'];
  }

  const query = async (promql: string, timeSeconds?: number): Promise<PromResult> =>
    toPromResult(
      await api('query', timeSeconds === undefined ? { query: promql } : { query: promql, time: String(timeSeconds) }),
    );

  const targets = async (): Promise<PromTarget[]> => {
    const data = await api('targets', { state: 'active' });
    if (!isRecord(data) || !Array.isArray(data['activeTargets']))
      throw new Error(`unexpected targets data: ${JSON.stringify(data)}`);
    return data['activeTargets'] as PromTarget[];
  };

  const targetsUp = async (): Promise<boolean> => {
    const ts = await targets();
    return ts.length >= opts.targets.length && ts.every((t) => t.health === 'up');
  };

  let stopped: Promise<void> | undefined;

  return {
    url,
    pid,
    dir,
    configFile,
    query,
    async queryRange(promql, startSeconds, endSeconds, stepSeconds) {
      return toPromResult(
        await api('query_range', {
          query: promql,
          start: String(startSeconds),
          end: String(endSeconds),
          step: String(stepSeconds),
        }),
      );
    },
    async waitForQuery(promql, predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last: PromResult | undefined;
      let lastError: unknown;
      for (;;) {
        try {
          last = await query(promql);
          lastError = undefined;
          if (predicate(last)) return last;
        } catch (err) {
          // Bad PromQL never becomes good by waiting.
          if (err instanceof PrometheusApiError && err.errorType === 'bad_data') throw err;
          lastError = err;
        }
        if (Date.now() > deadline) {
          const health = await targets().then(
            (ts) =>
              ts.map((t) => `${t.scrapeUrl} ${t.health}${t.lastError === '' ? '' : ` (${t.lastError})`}`).join('; '),
            (err: unknown) => `targets unavailable: ${String(err)}`,
          );
          throw new Error(
            `waitForQuery timed out after ${timeoutMs} ms: ${promql}\n` +
              `last result: ${JSON.stringify(last)}\n` +
              (lastError === undefined ? '' : `last error: ${errorText(lastError)}\n`) +
              `targets: ${health}`,
          );
        }
        await sleep(200);
      }
    },
    targets,
    targetsUp,
    async waitForTargetsUp(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!(await targetsUp())) {
        if (Date.now() > deadline) {
          throw new Error(`targets not up within ${timeoutMs} ms: ${JSON.stringify(await targets())}`);
        }
        await sleep(200);
      }
    },
    async alerts() {
      const data = await api('alerts', {});
      if (!isRecord(data) || !Array.isArray(data['alerts']))
        throw new Error(`unexpected alerts data: ${JSON.stringify(data)}`);
      return data['alerts'] as PromAlert[];
    },
    async rules() {
      const data = await api('rules', {});
      if (!isRecord(data) || !Array.isArray(data['groups']))
        throw new Error(`unexpected rules data: ${JSON.stringify(data)}`);
      return data['groups'] as PromRuleGroup[];
    },
    async reload() {
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`reload failed (HTTP ${res.status}): ${text}`);
    },
    logs: () => log,
    stop() {
      stopped ??= (async () => {
        await kill();
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
