// The BUILT exporter (node dist/main.js) as a child process that can be killed and started again on
// the same DATA_DIR and the same ports, for the durability tests in test/e2e/ (crash, restart, outage,
// backpressure). Requests are signed for a fixed PUBLIC_URL (as behind a proxy, the way Twilio reaches
// a deployed exporter), so a signed request stays valid whichever local port it is sent to, and a
// captured request can be replayed byte for byte after a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signTwilioRequest } from '../../src/http/signature.js';
import { sampleSum } from './prom.js';
import { MAIN_JS, waitFor, type ExitInfo } from './child.js';

export const PUBLIC_URL = 'https://hooks.example.test/twilio/events';

/** True if 127.0.0.1:port could be bound a moment ago. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below Linux's ephemeral range (32768-60999): a child that is down between a kill and its
 * restart must find its port still free, and ports in the ephemeral range are handed out to every
 * outgoing connection and `listen(0)` of the other test files running in parallel.
 */
export async function stablePort(exclude: readonly number[] = []): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!exclude.includes(port) && (await canBind(port))) return port;
  }
  throw new Error('no free port found in 20000-32000');
}

/** A captured signed request: the query Twilio appends (`?bodySHA256=...`), X-Twilio-Signature, the body bytes. */
export interface SignedRequest {
  query: string;
  signature: string;
  body: Buffer;
}

/** Signs `body` for PUBLIC_URL with `token` exactly as Twilio does. */
export function signForPublicUrl(token: string, body: Buffer): SignedRequest {
  const signed = signTwilioRequest(token, PUBLIC_URL, body);
  return { query: new URL(signed.url).search, signature: signed.signature, body };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/**
 * POSTs a signed request to the webhook (/events) at `origin`, as a proxy in front of the exporter
 * would forward Twilio's delivery to PUBLIC_URL. Rejects on network errors and timeouts.
 */
export async function sendSigned(origin: string, req: SignedRequest, timeoutMs = 10_000): Promise<Answer> {
  const res = await fetch(`${origin}/events${req.query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-twilio-signature': req.signature },
    body: req.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface RestartableOptions {
  /** Environment beyond PATH, HOME, HOST, PORT, METRICS_PORT, DATA_DIR, PUBLIC_URL (which are set here). */
  env: Record<string, string>;
  /** Bytes of output kept per stream across all runs (default 2 MiB). */
  captureBytes?: number;
}

/** Runs of the exporter over one DATA_DIR and one pair of ports. */
export class RestartableExporter {
  readonly dataDir: string;
  private readonly cwd: string;
  private proc: ChildProcess | undefined;
  private exit: Promise<ExitInfo> | undefined;
  private exitInfo: ExitInfo | undefined;
  private expectingExit = false;
  private output = '';
  /** Exits nobody asked for (a crash of the exporter itself). */
  readonly unexpectedExits: (ExitInfo & { output: string })[] = [];
  runs = 0;

  private constructor(
    readonly port: number,
    readonly metricsPort: number,
    private env: Record<string, string>,
    private readonly captureBytes: number,
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'vie-durable-data-'));
    // The working directory is separate and empty, so no .env of the checkout is read.
    this.cwd = mkdtempSync(join(tmpdir(), 'vie-durable-cwd-'));
  }

  static async create(opts: RestartableOptions): Promise<RestartableExporter> {
    const port = await stablePort();
    const metricsPort = await stablePort([port]);
    return new RestartableExporter(port, metricsPort, opts.env, opts.captureBytes ?? 2 * 1024 * 1024);
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  running(): boolean {
    return this.proc !== undefined && this.exitInfo === undefined;
  }

  /** Changes the environment of the next start (e.g. a larger STORE_MAX_BYTES). */
  setEnv(env: Record<string, string>): void {
    this.env = { ...this.env, ...env };
  }

  /** Spawns `node dist/main.js serve` without waiting for it. */
  start(): void {
    if (this.running()) throw new Error('the exporter is already running');
    this.runs++;
    const run = this.runs;
    const proc = spawn(process.execPath, [MAIN_JS, 'serve'], {
      cwd: this.cwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? this.cwd,
        HOST: '127.0.0.1',
        PORT: String(this.port),
        METRICS_PORT: String(this.metricsPort),
        DATA_DIR: this.dataDir,
        PUBLIC_URL,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.exitInfo = undefined;
    this.expectingExit = false;
    const append = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      if (this.output.length > this.captureBytes) this.output = this.output.slice(-this.captureBytes);
    };
    this.output += `\n--- run ${run} (pid ${proc.pid ?? '?'}) ---\n`;
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    this.exit = new Promise<ExitInfo>((resolve) => {
      proc.once('exit', (code, signal) => {
        const info = { code, signal };
        if (this.proc === proc) this.exitInfo = info;
        if (!this.expectingExit) this.unexpectedExits.push({ ...info, output: this.output.slice(-8000) });
        resolve(info);
      });
    });
  }

  /** Resolves when /healthz (listening) or /readyz (ready) answers 200; throws if the child exits first. */
  async waitUntil(state: 'listening' | 'ready', timeoutMs = 20_000): Promise<void> {
    const path = state === 'listening' ? '/healthz' : '/readyz';
    await waitFor(
      `run ${this.runs} of the exporter to answer 200 on ${path}`,
      async () => {
        if (!this.running()) throw new Error(`the exporter exited (${JSON.stringify(this.exitInfo)}):\n${this.logs()}`);
        return (await statusOf(`${this.origin}${path}`)) === 200;
      },
      { timeoutMs, intervalMs: 20 },
    );
  }

  /** Starts and waits until ready. */
  async startReady(timeoutMs = 20_000): Promise<void> {
    this.start();
    await this.waitUntil('ready', timeoutMs);
  }

  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo | undefined> {
    if (!this.running() || this.proc === undefined || this.exit === undefined) return this.exitInfo;
    this.expectingExit = true;
    this.proc.kill(signal);
    return this.exit;
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`, and an error). */
  async terminate(timeoutMs = 15_000): Promise<ExitInfo> {
    if (!this.running() || this.proc === undefined || this.exit === undefined) throw new Error('not running');
    this.expectingExit = true;
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.exit, timeout]).finally(() => clearTimeout(timer));
    if (result === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exit;
      throw new Error(`the exporter did not exit within ${timeoutMs} ms of SIGTERM:\n${this.logs()}`);
    }
    return result;
  }

  /** Output of every run so far (the newest part). */
  logs(): string {
    return this.output;
  }

  async scrape(): Promise<string> {
    const res = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  /** Sum of a metric's samples whose labels include `labels`, as scraped now. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sampleSum(await this.scrape(), name, labels);
  }

  async readyz(): Promise<{ status: number; body: { ready?: boolean; reasons?: string[] } }> {
    const res = await fetch(`${this.origin}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as { ready?: boolean; reasons?: string[] } };
  }

  /** Bytes of the files in DATA_DIR (the embedded store and the dead-letter file). */
  dataDirBytes(): number {
    let total = 0;
    for (const name of readdirSync(this.dataDir)) {
      try {
        total += statSync(join(this.dataDir, name)).size;
      } catch {
        // removed meanwhile (a WAL checkpoint)
      }
    }
    return total;
  }

  /** Kills the child if it runs and removes DATA_DIR and the working directory. Safe to call twice. */
  async dispose(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.cwd, { recursive: true, force: true });
  }
}

async function statusOf(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
