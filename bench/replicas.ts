// "3 replicas on Redis vs 1 replica embedded", measured in the same run, A/B alternated: one exporter
// on the embedded SQLite store (the default), and three exporters sharing one redis-server (append-only
// file, `appendfsync always`: the same promise as the embedded store's synchronous=FULL) behind a
// round-robin client (the load balancer). The same single-event bodies (new event ids for each setup),
// the same client, the same concurrency. CPU is summed over every server process of a setup (three
// exporters and redis-server), so the row shows what the shared store costs per request as well as
// what it gives.
// On this 2-core machine the load generator, three exporters and Redis share two cores: the row is a
// cost comparison, not a scaling measurement (replicas scale across machines, not on one). A third
// setup, one of the three replicas alone, separates what the shared store costs one exporter from what
// three exporters and Redis contending for two cores cost.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startExporter, tempDir, type Exporter } from './children.js';
import { LoadClient } from './client.js';
import { cpuSeconds } from './proc.js';
import { quantile, sortedConcat } from './stats.js';
import { BodyPool, Cursor, type Signer } from './traffic.js';

export type ReplicasSetup = 'embedded x1' | 'redis x1' | 'redis x3';

export interface ReplicasRow {
  setup: ReplicasSetup;
  requests: number;
  reqPerS: number;
  p50Us: number;
  p99Us: number;
  /** CPU seconds of every server process of the setup (exporters, and redis-server). */
  cpuSeconds: number;
  cpuUsPerRequest: number;
  non2xx: number;
  reqPerSByRound: number[];
}

export interface ReplicasResult {
  /** False when redis-server is not installed: the row is then skipped, with `note` saying why. */
  measured: boolean;
  note: string;
  concurrency: number;
  rows: ReplicasRow[];
  /** redis x3 req/s over embedded x1 req/s (absent when not measured). */
  ratio?: number;
  /** redis x1 req/s over embedded x1 req/s: the shared store's own cost, without three processes on two cores. */
  ratioOne?: number;
}

export interface ReplicasOptions {
  signer: Signer;
  sinkPort: number;
  concurrency: number;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  log: (line: string) => void;
}

interface Setup {
  key: ReplicasSetup;
  exporters: Exporter[];
  pids: number[];
  cursor: Cursor;
}

interface Run {
  requests: number;
  non2xx: number;
  seconds: number;
  cpuSeconds: number;
  latenciesUs: Float64Array;
}

export async function runReplicas(opts: ReplicasOptions): Promise<ReplicasResult> {
  const binary = redisServerBinary();
  if (binary === undefined) {
    const note = 'skipped: redis-server is not on PATH (apt-get install -y redis-server)';
    opts.log(`  ${note}`);
    return { measured: false, note, concurrency: opts.concurrency, rows: [] };
  }
  const redis = await startRedis(binary);
  try {
    const pool = new BodyPool(opts.signer, 3003, 1);
    const exporterFor = (env: Record<string, string>) =>
      startExporter({
        store: 'embedded',
        dataDir: tempDir('vie-bench-replica-'),
        token: opts.signer.token,
        publicUrl: opts.signer.publicUrl,
        sinkPort: opts.sinkPort,
        env,
      });
    const single = await exporterFor({});
    const replicas: Exporter[] = [];
    for (let i = 0; i < 3; i++)
      replicas.push(await exporterFor({ STORE_URL: `redis://127.0.0.1:${redis.port}`, STORE_KEY_PREFIX: 'bench:' }));
    const setups: Setup[] = [
      { key: 'embedded x1', exporters: [single], pids: [single.pid], cursor: new Cursor(pool, false) },
      // One of the three alone (the other two idle): what the shared store costs one exporter.
      {
        key: 'redis x1',
        exporters: replicas.slice(0, 1),
        pids: [replicas[0]?.pid ?? -1, redis.pid],
        cursor: new Cursor(pool, false),
      },
      {
        key: 'redis x3',
        exporters: replicas,
        pids: [...replicas.map((r) => r.pid), redis.pid],
        cursor: new Cursor(pool, false),
      },
    ];
    const rate = new Map<ReplicasSetup, number>(setups.map((s) => [s.key, 5000]));
    const runs = new Map<ReplicasSetup, Run[]>(setups.map((s) => [s.key, []]));
    const once = async (s: Setup, seconds: number): Promise<Run> => {
      s.cursor.reserve(Math.ceil((rate.get(s.key) ?? 0) * seconds * 1.5) + opts.concurrency);
      const run = await roundRobin(s, opts.concurrency, seconds);
      rate.set(s.key, Math.max(rate.get(s.key) ?? 0, run.requests / run.seconds));
      return run;
    };
    for (const s of setups) await once(s, opts.warmupSeconds);
    for (let round = 1; round <= opts.rounds; round++) {
      for (const s of setups) {
        const run = await once(s, opts.seconds);
        runs.get(s.key)?.push(run);
        opts.log(
          `  round ${round} ${s.key.padEnd(12)} ${Math.round(run.requests / run.seconds)} req/s, non-2xx ${run.non2xx}`,
        );
      }
    }
    for (const e of [single, ...replicas]) await e.kill();
    const rows = setups.map((s) => row(s.key, runs.get(s.key) ?? []));
    const [embedded, one, three] = rows;
    return {
      measured: true,
      note: 'same run, A/B alternated; CPU summed over the setup’s server processes',
      concurrency: opts.concurrency,
      rows,
      ratio: (three?.reqPerS ?? Number.NaN) / (embedded?.reqPerS ?? Number.NaN),
      ratioOne: (one?.reqPerS ?? Number.NaN) / (embedded?.reqPerS ?? Number.NaN),
    };
  } finally {
    await redis.stop();
  }
}

/** A closed loop over the setup's exporters, each request to the next one in turn (the load balancer). */
async function roundRobin(s: Setup, concurrency: number, seconds: number): Promise<Run> {
  const clients = s.exporters.map((e) => new LoadClient(e.port, concurrency));
  const cpu0 = s.pids.map(cpuSeconds);
  const latencies: number[] = [];
  let requests = 0;
  let non2xx = 0;
  let turn = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  const worker = async () => {
    while (process.hrtime.bigint() < end) {
      const body = s.cursor.next();
      if (body === undefined) return;
      const client = clients[turn++ % clients.length];
      if (client === undefined) return;
      const sent = process.hrtime.bigint();
      const answer = await client.post(body);
      latencies.push(Number(process.hrtime.bigint() - sent) / 1000);
      requests++;
      if (answer === 'error' || answer < 200 || answer > 299) non2xx++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    for (const c of clients) c.close();
  }
  return {
    requests,
    non2xx,
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    cpuSeconds: s.pids.reduce((n, pid, i) => n + cpuSeconds(pid) - (cpu0[i] ?? 0), 0),
    latenciesUs: Float64Array.from(latencies),
  };
}

function row(setup: ReplicasSetup, runs: readonly Run[]): ReplicasRow {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  const cpu = runs.reduce((n, r) => n + r.cpuSeconds, 0);
  const latencies = sortedConcat(runs.map((r) => r.latenciesUs));
  return {
    setup,
    requests,
    reqPerS: requests / seconds,
    p50Us: quantile(latencies, 0.5),
    p99Us: quantile(latencies, 0.99),
    cpuSeconds: cpu,
    cpuUsPerRequest: (cpu / requests) * 1e6,
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    reqPerSByRound: runs.map((r) => r.requests / r.seconds),
  };
}

export function renderReplicas(r: ReplicasResult): string {
  const head = `3 replicas on Redis vs 1 replica embedded (one event per request, ${r.concurrency} concurrent, round-robin over the replicas)`;
  if (!r.measured) return `${head}\n${r.note}\n`;
  const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
  const headers = ['setup', 'req/s', 'p50 us', 'p99 us', 'CPU s', 'CPU us/req', 'non-2xx'];
  const cells = r.rows.map((x) => [
    x.setup,
    int(x.reqPerS),
    int(x.p50Us),
    int(x.p99Us),
    Number.isFinite(x.cpuSeconds) ? x.cpuSeconds.toFixed(1) : 'n/a',
    int(x.cpuUsPerRequest),
    int(x.non2xx),
  ]);
  const times = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');
  cells.push(['  ratio redis x1 / embedded x1', times(r.ratioOne)]);
  cells.push(['  ratio redis x3 / embedded x1', times(r.ratio)]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) =>
    c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  return [head, line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), `(${r.note})`, ''].join(
    '\n',
  );
}

function redisServerBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v redis-server || command -v valkey-server'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0] ?? '';
  return found.status === 0 && path !== '' ? path : undefined;
}

interface RedisChild {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** redis-server on a free port in a temporary directory, durable as the README asks (AOF, fsync always). */
async function startRedis(binary: string): Promise<RedisChild> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vie-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no');
  const proc: ChildProcess = spawn(binary, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  const deadline = Date.now() + 10_000;
  while (!(await pings(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      kill();
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    pid: proc.pid ?? -1,
    port,
    async stop() {
      process.off('exit', kill);
      kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString('utf8').startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
