// Helpers for tests that run the BUILT exporter (dist/main.js) as a child process: build it when
// dist/ is missing or older than src/, pick free ports, spawn and wait for it, sign and post with
// fetch, read its resident memory. Conditions are always polled with a bounded deadline, never slept on.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signTwilioRequest } from '../../src/http/signature.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN_JS = join(REPO_ROOT, 'dist', 'main.js');
const SRC_DIR = join(REPO_ROOT, 'src');
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

// ---------------------------------------------------------------------------------------------
// Build

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function distIsFresh(): boolean {
  try {
    return statSync(MAIN_JS).mtimeMs >= newestMtimeMs(SRC_DIR);
  } catch {
    return false;
  }
}

/** Takes the lock directory (mkdir is atomic); true if taken. A lock older than two minutes is taken as abandoned. */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
    } catch {
      // the holder released it meanwhile
    }
    return false;
  }
}

/**
 * Runs `tsc -p tsconfig.build.json` unless dist/main.js is newer than every file under src/. Test files
 * run in parallel, so the build is serialised by a lock directory. Throws with the compiler output if
 * the build fails.
 */
export async function ensureBuilt(): Promise<void> {
  if (distIsFresh()) return;
  const lock = join(tmpdir(), `vie-build-${Buffer.from(REPO_ROOT).toString('hex').slice(-40)}.lock`);
  await waitFor(`the build lock ${lock}`, () => tryLock(lock), { timeoutMs: 120_000, intervalMs: 100 });
  try {
    if (distIsFresh()) return;
    const result = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (result.status !== 0) {
      throw new Error(`build failed (tsc exit ${String(result.status)}):\n${result.stdout}${result.stderr}`);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting

/** Polls `condition` every `intervalMs` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port bound'))));
    });
  });
}

/** True when a TCP connection to 127.0.0.1:port is accepted. */
export function portAccepts(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}

// ---------------------------------------------------------------------------------------------
// The child exporter

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildExporter {
  proc: ChildProcess;
  pid: number;
  port: number;
  metricsPort: number;
  origin: string;
  webhookUrl: string;
  metricsUrl: string;
  dataDir: string;
  /** Everything the child wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<ExitInfo>;
  /** Set once the process has exited. */
  exitInfo(): ExitInfo | undefined;
  /** SIGKILLs the child if still running, waits for it, removes its DATA_DIR. Safe to call twice. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra environment (the child gets only PATH, HOME and these, plus its ports and DATA_DIR; PORT here is used). */
  env?: Record<string, string>;
  args?: string[];
  /** 'ready': /readyz answers 200; 'listening': /healthz answers 200 (for a child that stays not ready). */
  waitUntil?: 'ready' | 'listening';
  timeoutMs?: number;
  /** Keep only the last this many bytes of stdout and of stderr (default 8 MiB). */
  captureBytes?: number;
}

/** Collects a stream's output, keeping only the newest `cap` bytes. */
function tail(cap: number): { push(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      while (size > cap && chunks.length > 1) size -= chunks.shift()?.length ?? 0;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/**
 * Spawns `node dist/main.js serve` on free ports with a fresh DATA_DIR as its working directory (so no
 * .env from the checkout is read) and waits until it listens or is ready. If the child exits before,
 * throws with its output.
 */
export async function spawnExporter(opts: SpawnOptions = {}): Promise<ChildExporter> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vie-child-'));
  // A PORT in opts.env is used (a PUBLIC_URL naming the port must be known before the child starts).
  const port = opts.env?.['PORT'] !== undefined ? Number(opts.env['PORT']) : await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    DATA_DIR: dataDir,
    ...opts.env,
  };
  const proc = spawn(process.execPath, [MAIN_JS, ...(opts.args ?? ['serve'])], {
    cwd: dataDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = tail(opts.captureBytes ?? 8 * 1024 * 1024);
  const err = tail(opts.captureBytes ?? 8 * 1024 * 1024);
  proc.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  proc.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  let exit: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  const child: ChildExporter = {
    proc,
    pid: proc.pid ?? -1,
    port,
    metricsPort,
    origin,
    webhookUrl: `${origin}${opts.env?.['WEBHOOK_PATH'] ?? '/events'}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dataDir,
    stdout: () => out.text(),
    stderr: () => err.text(),
    exited,
    exitInfo: () => exit,
    async kill() {
      if (exit === undefined) {
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const path = opts.waitUntil === 'listening' ? '/healthz' : '/readyz';
  try {
    await waitFor(
      `the child exporter's ${path} to answer 200`,
      async () => {
        if (exit !== undefined) {
          throw new Error(`child exited early (${JSON.stringify(exit)}):\n${child.stderr()}\n${child.stdout()}`);
        }
        return (await getStatus(`${origin}${path}`)) === 200;
      },
      { timeoutMs: opts.timeoutMs ?? 15_000 },
    );
  } catch (error) {
    await child.kill();
    throw error;
  }
  return child;
}

/** Status of a GET, or undefined if the connection failed or timed out. */
export async function getStatus(url: string, timeoutMs = 2000): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

export interface PostResult {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

export interface SignedPostOptions {
  /** Headers added to (or overriding) content-type and x-twilio-signature. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Signs `body` for `webhookUrl` with `token` exactly as Twilio does and POSTs it; JSON answers are parsed. */
export async function signedPost(
  webhookUrl: string,
  token: string,
  body: Buffer,
  opts: SignedPostOptions = {},
): Promise<PostResult> {
  const signed = signTwilioRequest(token, webhookUrl, body);
  const res = await fetch(signed.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-twilio-signature': signed.signature, ...opts.headers },
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text only
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** The process's resident set size in bytes, from /proc/<pid>/status (VmRSS); undefined if unavailable. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/main.js ...args` to completion in a fresh temporary directory with only `env` (plus PATH/HOME). */
export function runCli(args: readonly string[], env: Record<string, string>, timeoutMs = 15_000): CliResult {
  const cwd = mkdtempSync(join(tmpdir(), 'vie-cli-'));
  try {
    const result = spawnSync(process.execPath, [MAIN_JS, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? cwd, ...env },
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Pino JSON lines of a child's stdout (non-JSON lines skipped). */
export function logLines(stdout: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        lines.push(parsed as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return lines;
}

export interface AsyncCliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/**
 * Runs `node dist/main.js ...args` without blocking this process's event loop (so servers in this
 * process, such as an OTLP receiver or an in-process exporter, keep answering), with only `env` (plus
 * PATH/HOME) in `cwd`. SIGKILLs it and rejects after `timeoutMs`.
 */
export function runCliAsync(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 30_000,
): Promise<AsyncCliResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stderr}\n${stdout}`));
    }, timeoutMs);
    // 'close', not 'exit': all of stdout and stderr has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}
