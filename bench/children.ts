// The bench's server processes: the exporter (node dist/main.js serve, as users run it), the baseline
// and the OTLP sink (bench/*.ts transpiled to plain JavaScript and run with plain node, so no loader
// sits in the measured process). Each listens on a free port on 127.0.0.1. Every child is killed when
// the bench exits, however it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { freePort } from '../test/support/child.js';
import { httpGet } from './http-get.js';
import { MAIN_JS, REPO_ROOT } from './paths.js';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  port: number;
  /** Everything written to stdout and stderr (the last 1 MiB). */
  output(): string;
  exited(): boolean;
  /** SIGKILLs the process and waits for it to be gone. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with its output once it is gone. */
  terminate(graceMs?: number): Promise<string>;
}

const children = new Set<Child>();
const tempDirs = new Set<string>();

/** SIGKILLs every child still running and removes temporary directories; synchronous (for 'exit'). */
export function killAll(): void {
  for (const child of children) if (!child.exited()) child.proc.kill('SIGKILL');
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let cleanupInstalled = false;

/** Kills the children on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** A fresh temporary directory, removed when the bench ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A TCP port that was free a moment ago on 127.0.0.1: the tests' helper, one copy. */
export { freePort };

function start(name: string, args: string[], env: Record<string, string>, cwd: string, port: number): Child {
  const proc = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-1024 * 1024);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let gone = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  const child: Child = {
    name,
    proc,
    pid: proc.pid ?? -1,
    port,
    output: () => out,
    exited: () => gone,
    async kill() {
      if (!gone) proc.kill('SIGKILL');
      await exit;
      children.delete(child);
    },
    async terminate(graceMs = 5000) {
      if (!gone) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      children.delete(child);
      return out;
    },
  };
  children.add(child);
  return child;
}

/** Polls GET path until it answers `status`; returns the milliseconds from `since` (performance.now()). */
export async function waitForStatus(
  child: Child,
  port: number,
  path: string,
  opts: { since: number; timeoutMs: number; status?: number; intervalMs?: number },
): Promise<number> {
  const deadline = opts.since + opts.timeoutMs;
  for (;;) {
    if (child.exited()) throw new Error(`${child.name} exited before ${path} answered:\n${child.output()}`);
    const answer = await httpGet(port, path, 1000);
    if (answer?.status === (opts.status ?? 200)) return performance.now() - opts.since;
    if (performance.now() > deadline) {
      throw new Error(
        `${child.name}: ${path} did not answer ${opts.status ?? 200} within ${opts.timeoutMs} ms ` +
          `(last: ${answer === undefined ? 'no answer' : String(answer.status)}):\n${child.output().slice(-4000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 5));
  }
}

const CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'voice-insights-exporter-bench');

/** bench/<name>.ts as plain JavaScript, next to node_modules so its imports resolve. */
function transpiled(name: string): string {
  const source = readFileSync(join(REPO_ROOT, 'bench', `${name}.ts`), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `${name}.mjs`);
  writeFileSync(file, outputText);
  return file;
}

/** A bench server (baseline-server, otlp-sink) on a free port, once it listens. */
export async function startBenchServer(name: 'baseline-server' | 'otlp-sink'): Promise<Child> {
  const port = await freePort();
  const since = performance.now();
  const child = start(name, [transpiled(name)], { PORT: String(port) }, REPO_ROOT, port);
  await waitForOutput(child, `listening ${port}`, since, 10_000);
  return child;
}

async function waitForOutput(child: Child, text: string, since: number, timeoutMs: number): Promise<void> {
  while (!child.output().includes(text)) {
    if (child.exited()) throw new Error(`${child.name} exited:\n${child.output()}`);
    if (performance.now() - since > timeoutMs) throw new Error(`${child.name} did not start:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export type StoreKind = 'embedded' | 'memory';

export interface ExporterOptions {
  store: StoreKind;
  dataDir: string;
  token: string;
  publicUrl: string;
  sinkPort: number;
  /** More environment, e.g. METRIC_LABEL_MAX_VALUES. */
  env?: Record<string, string>;
  /** Node flags before dist/main.js (e.g. --cpu-prof). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

export interface Exporter extends Child {
  metricsPort: number;
  dataDir: string;
  /** Milliseconds from spawn to /readyz answering 200. */
  readyMs: number;
}

/** `node dist/main.js serve` with the production defaults plus what loopback benchmarking needs. */
export async function startExporter(opts: ExporterOptions): Promise<Exporter> {
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    DATA_DIR: opts.dataDir,
    TWILIO_AUTH_TOKEN: opts.token,
    PUBLIC_URL: opts.publicUrl,
    LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${opts.sinkPort}/v1/traces`,
    ...(opts.store === 'memory' ? { STORE_URL: 'memory:' } : {}),
    ...opts.env,
  };
  const since = performance.now();
  const child = start(
    `exporter (${opts.store})`,
    [...(opts.nodeArgs ?? []), MAIN_JS, 'serve'],
    env,
    opts.dataDir,
    port,
  );
  const readyMs = await waitForStatus(child, port, '/readyz', { since, timeoutMs: opts.readyTimeoutMs ?? 30_000 });
  return { ...child, metricsPort, dataDir: opts.dataDir, readyMs };
}
