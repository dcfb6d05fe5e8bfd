// `tsx bench/profile.ts [--seconds N] [--batch] [--memory] [--top N] [--dir DIR]`: where the exporter's
// CPU goes under the bench's load. Starts the OTLP sink and `node --cpu-prof dist/main.js serve`
// (embedded store unless --memory), drives it closed-loop with the bench's signed single-event traffic
// (or 50-event batches with --batch) for N seconds after a warm-up, stops it with SIGTERM so V8 writes
// the .cpuprofile, and prints the top self-time entries with their share of all samples, GC and idle
// included. Run `npm run build` first.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup, killAll, startBenchServer, startExporter, tempDir } from './children.js';
import { LoadClient } from './client.js';
import { REPO_ROOT } from './paths.js';
import { BodyPool, Cursor, type Signer } from './traffic.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Of every sample. */
  share: number;
  /** Of the samples when the process was not idle. */
  busyShare: number;
}

/** Self time per function (name + file + line), from a V8 .cpuprofile, largest first. */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    all += us;
    const frame = byNode.get(id)?.callFrame;
    const name = frame?.functionName || '(anonymous)';
    const url = frame?.url.replace(/^file:\/\//, '') ?? '';
    const where =
      url === '' ? '' : `${url.startsWith(REPO_ROOT) ? relative(REPO_ROOT, url) : url}:${(frame?.lineNumber ?? 0) + 1}`;
    const key = `${name} ${where}`;
    const entry = totals.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    totals.set(key, entry);
  });
  const idle = [...totals.values()].find((t) => t.name === '(idle)')?.us ?? 0;
  return [...totals.values()]
    .map((t) => ({
      name: t.name,
      where: t.where,
      ms: t.us / 1000,
      share: t.us / all,
      busyShare: t.name === '(idle)' ? 0 : t.us / (all - idle),
    }))
    .sort((a, b) => b.ms - a.ms);
}

/** Self time by area: GC, idle, node internals, each dependency, the exporter's own code. */
export function byArea(times: readonly SelfTime[]): { area: string; share: number; busyShare: number }[] {
  const areas = new Map<string, { share: number; busyShare: number }>();
  for (const t of times) {
    let area: string;
    if (['(idle)', '(program)', '(garbage collector)', '(root)'].includes(t.name)) area = t.name;
    else if (t.where === '') area = 'native (V8 builtins, node C++ bindings)';
    else if (t.where.startsWith('node:')) area = 'node internals (JavaScript)';
    else if (t.where.includes('node_modules/')) {
      const after = t.where.split('node_modules/').pop() ?? '';
      const parts = after.split('/');
      area = after.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? after);
    } else area = t.where.startsWith('dist/') ? `exporter ${t.where.split('/').slice(0, 2).join('/')}` : t.where;
    const sum = areas.get(area) ?? { share: 0, busyShare: 0 };
    areas.set(area, { share: sum.share + t.share, busyShare: sum.busyShare + t.busyShare });
  }
  return [...areas.entries()].map(([area, s]) => ({ area, ...s })).sort((a, b) => b.share - a.share);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '15' },
      top: { type: 'string', default: '15' },
      batch: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      dir: { type: 'string' },
    },
  });
  installCleanup();
  const seconds = Number(values.seconds);
  // Not a temporary directory of the bench: the profile stays for a closer look.
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'vie-bench-profile-'));
  const signer: Signer = { token: 'bench-auth-token', publicUrl: 'https://voice-insights.example.com/events' };
  const events = values.batch === true ? 50 : 1;
  const concurrency = values.batch === true ? 8 : 32;
  // Bodies first, so the profiled process is not left idle while they are signed.
  const pool = new BodyPool(signer, 5005, events);
  const cursor = new Cursor(pool, false);
  cursor.reserve(Math.ceil((seconds + 2) * (values.batch === true ? 600 : 9000)));
  const sink = await startBenchServer('otlp-sink');
  const exporter = await startExporter({
    store: values.memory === true ? 'memory' : 'embedded',
    dataDir: tempDir('vie-bench-profile-data-'),
    ...signer,
    sinkPort: sink.port,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  const client = new LoadClient(exporter.port, concurrency);
  await client.closedLoop({ concurrency, durationMs: 2000, next: () => cursor.next() });
  const run = await client.closedLoop({ concurrency, durationMs: seconds * 1000, next: () => cursor.next() });
  client.close();
  await exporter.terminate(30_000);
  await sink.terminate();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const times = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)} %`;
  const out = [
    `profile of the exporter (${values.memory === true ? 'memory:' : 'embedded'}), ${events} event(s) per request, ` +
      `${concurrency} concurrent: ${Math.round(run.requests / run.seconds)} req/s over ${seconds} s after a 2 s warm-up ` +
      `(whole process life in the profile)`,
    `profile: ${join(dir, file)}`,
    '',
    `top ${values.top} self time (share of all samples, share of non-idle samples):`,
    ...times.slice(0, Number(values.top)).map((t) => `${pct(t.share)} ${pct(t.busyShare)}  ${t.name}  ${t.where}`),
    '',
    'by area:',
    ...byArea(times)
      .slice(0, 20)
      .map((a) => `${pct(a.share)} ${pct(a.busyShare)}  ${a.area}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAll();
    process.exit(1);
  },
);
