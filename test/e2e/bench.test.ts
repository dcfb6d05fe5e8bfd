// Smoke test of `npm run bench -- --quick`: it completes, prints every row of every table, and its JSON
// holds every figure as a finite number. No thresholds: CI machines are too noisy for performance gates
// (the bench's own targets are reported, not enforced).
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt, REPO_ROOT } from '../support/child.js';

const TSX = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Every leaf of `value` that is not a finite number, string or boolean, by path. */
function badLeaves(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path} = ${value}`];
  if (typeof value === 'string' || typeof value === 'boolean') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => badLeaves(v, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => badLeaves(v, `${path}.${k}`));
  return [`${path} = ${String(value)}`];
}

function numbersAt(value: unknown, keys: readonly string[], what: string): void {
  assert.ok(typeof value === 'object' && value !== null, `${what} is missing`);
  for (const key of keys) {
    const n = (value as Record<string, unknown>)[key];
    assert.ok(typeof n === 'number' && Number.isFinite(n), `${what}.${key} is ${String(n)}`);
  }
}

test('npm run bench -- --quick completes, prints every row and writes every figure as a finite number', async () => {
  await ensureBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  try {
    const json = join(dir, 'bench.json');
    const { stdout } = await promisify(execFile)(process.execPath, [TSX, 'bench/main.ts', '--quick', '--json', json], {
      cwd: REPO_ROOT,
      timeout: 280_000,
      maxBuffer: 16 * 1024 * 1024,
    });

    for (const row of [
      '(a) one event per request',
      '(b) 50 events per request',
      'open loop',
      'memory and recovery',
      'RSS at ready',
      'peak RSS under load',
      'store on disk (state.sqlite + -wal)',
      'spawn to ready after SIGKILL',
      'calls in flight after the restart',
      'scrape: GET /metrics',
      'aligned (value k of each label together)',
      'cross (every pair',
      'OTLP sink:',
      '3 replicas on Redis vs 1 replica embedded',
      'redis x3',
      'targets',
    ])
      assert.ok(stdout.includes(row), `no "${row}" in the output:\n${stdout}`);
    // Each scenario table: the baseline, both exporters and a ratio row under each exporter.
    const tables = stdout.split('\n\n');
    for (const title of ['(a) one event per request', '(b) 50 events per request']) {
      const table = tables.find((t) => t.startsWith(title)) ?? '';
      for (const row of ['baseline (bare Koa)', 'exporter (embedded)', 'exporter (memory:)'])
        assert.ok(table.includes(row), `no ${row} row in "${title}":\n${table}`);
      assert.equal(table.split('ratio exporter/baseline').length - 1, 2, `two ratio rows in "${title}":\n${table}`);
    }
    const open = tables.find((t) => t.startsWith('open loop')) ?? '';
    for (const row of ['baseline (bare Koa)', 'exporter (embedded)', 'exporter (memory:)'])
      assert.ok(open.includes(row), `no ${row} row in the open-loop table:\n${open}`);

    const report = JSON.parse(await readFile(json, 'utf8')) as {
      scenarios: { servers: unknown[]; ratios: Record<string, unknown> }[];
      openLoop: unknown[];
      recovery: unknown;
      scrape: { cases: unknown[] };
      targets: unknown[];
      replicas: { measured: boolean; rows: unknown[]; ratio: unknown; ratioOne: unknown };
    };
    assert.deepEqual(badLeaves(report), []);
    // CI installs redis-server: the replicas row is measured, not skipped.
    assert.equal(report.replicas.measured, true, 'the replicas row was measured (redis-server on PATH)');
    assert.equal(report.replicas.rows.length, 3);
    for (const row of report.replicas.rows) numbersAt(row, ['reqPerS', 'p50Us', 'p99Us', 'cpuSeconds'], 'replicas');
    numbersAt(report.replicas, ['ratio', 'ratioOne'], 'replicas');
    assert.equal(report.scenarios.length, 2);
    for (const scenario of report.scenarios) {
      assert.equal(scenario.servers.length, 3);
      for (const server of scenario.servers)
        numbersAt(server, ['reqPerS', 'eventsPerS', 'p50Us', 'p99Us', 'maxUs', 'cpuSeconds', 'peakRssMiB'], 'server');
      for (const exporter of ['embedded', 'memory'])
        numbersAt(scenario.ratios[exporter], ['reqPerS', 'eventsPerS', 'p99Us', 'cpuSeconds', 'peakRssMiB'], exporter);
    }
    assert.equal(report.openLoop.length, 3);
    for (const row of report.openLoop) numbersAt(row, ['ratePerS', 'p50Us', 'p99Us', 'maxUs'], 'open loop');
    numbersAt(
      report.recovery,
      ['calls', 'rssAtReadyMiB', 'peakRssUnderLoadMiB', 'storeBytes', 'readyAfterKillMs', 'callsInFlightAfterRestart'],
      'recovery',
    );
    assert.equal(report.scrape.cases.length, 2);
    for (const c of report.scrape.cases) numbersAt(c, ['series', 'bytes', 'p50Ms', 'maxMs'], 'scrape');
    assert.ok(report.targets.length >= 8);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 300_000);
