// The BUILT `simulate` subcommand (node dist/main.js simulate) against an in-process exporter:
// exit code 0 and the JSON report on stdout; invalid options exit 2 naming every problem at once; when
// most answers are 403 it says which URL it signed and what must match. And the README's load-test
// line against an exporter started as the README's curl section starts it.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimReport } from '../../src/sim/report.js';
import { ensureBuilt, freePort, MAIN_JS, runCli, runCliAsync, spawnExporter } from '../support/child.js';
import { startExporter, TEST_TOKEN, type Harness } from '../support/harness.js';
import { sampleSum } from '../support/prom.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process's event loop (the exporter under test lives in it). */
function runAsync(args: readonly string[], env: Record<string, string>, cwd: string, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`simulate did not finish in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  await ensureBuilt();
});

describe('simulate subcommand', () => {
  let h: Harness;
  let dir: string;

  beforeAll(async () => {
    h = await startExporter();
    dir = mkdtempSync(join(tmpdir(), 'vie-sim-cli-'));
  });

  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('runs against the exporter, exits 0, prints the JSON report and writes --report', async () => {
    const reportFile = join(dir, 'report.json');
    // Token from the environment (TWILIO_AUTH_TOKEN), public URL defaulting to --target.
    const run = await runAsync(
      [
        'simulate',
        '--target',
        h.webhookUrl,
        '--duration',
        '1',
        '--rate',
        '3',
        '--speed',
        '2400',
        '--seed',
        '7',
        '--bad-share',
        '0.5',
        '--duplicate-share',
        '0.1',
        '--conference-share',
        '0.7',
        '--report',
        reportFile,
      ],
      { TWILIO_AUTH_TOKEN: TEST_TOKEN },
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as SimReport;
    assert.equal(report.settings.seed, 7);
    assert.equal(report.settings.conferenceShare, 0.7);
    // 3 new calls; each that became a conference brought its other legs.
    assert.ok(report.conferences.started > 0);
    assert.equal(report.calls.started, 3 - report.conferences.started + report.conferences.legs);
    assert.deepEqual(report.http.byStatus, { '200': report.events.deliveries });
    assert.equal(report.events.undelivered, 0);
    assert.deepEqual(JSON.parse(readFileSync(reportFile, 'utf8')), report);
    const metrics = await h.scrape();
    assert.equal(
      sampleSum(metrics, 'voice_insights_exporter_events_total', { outcome: 'accepted' }),
      report.events.delivered,
    );
    assert.equal(sampleSum(metrics, 'twilio_voice_calls_total'), report.calls.completeSummaryDelivered);
    assert.equal(sampleSum(metrics, 'twilio_voice_conferences_total'), report.conferences.completeSummaryDelivered);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(TEST_TOKEN));
  });

  test('a wrong token: every delivery is refused (403), exit code 1, report still printed', async () => {
    const run = await runAsync(
      [
        'simulate',
        '--target',
        h.webhookUrl,
        '--token',
        'not-the-token',
        '--duration',
        '0.5',
        '--rate',
        '2',
        '--speed',
        '5000',
        '--seed',
        '8',
      ],
      {},
      dir,
    );
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as SimReport;
    assert.deepEqual(Object.keys(report.http.byStatus), ['403']);
    assert.equal(report.events.delivered, 0);
    // The likely causes, once: the URL signed (here the target) and the token.
    const answered = report.http.byStatus['403'] ?? 0;
    assert.ok(
      run.stderr.includes(
        `simulate: ${answered} of ${answered} answered deliveries (100 %) were refused with 403: the exporter did not verify their signature.\n  The simulator signed ${h.webhookUrl} (the target, as neither --public-url nor PUBLIC_URL was given).`,
      ),
      run.stderr,
    );
    assert.match(run.stderr, /check that --token .* is the exporter's TWILIO_AUTH_TOKEN/);
    assert.equal(run.stderr.match(/were refused with 403/g)?.length, 1);
  });

  test('invalid options exit 2 and name every problem at once', () => {
    const r = runCli(
      [
        'simulate',
        '--rate',
        '0',
        '--bad-share',
        '1.5',
        '--conference-share',
        '2',
        '--speed',
        'fast',
        '--target',
        'not-a-url',
      ],
      {},
    );
    assert.equal(r.status, 2, r.stderr);
    for (const flag of ['--duration', '--token', '--rate', '--bad-share', '--conference-share', '--speed', '--target'])
      assert.match(r.stderr, new RegExp(`${flag}:`), flag);
    assert.equal(r.stdout, '');
  });
});

describe("the README's load-test line against the exporter of the README's curl section", () => {
  // README: `TWILIO_AUTH_TOKEN=my-test-token PUBLIC_URL=http://localhost:8080/events npm start`, then in
  // another shell (no PUBLIC_URL there) `npm run simulate -- --duration 60 --rate 20 --speed 60 --token
  // my-test-token`. Here on a free port (PORT tells the simulator, as 8080 is its default), shorter.
  let cwd: string;
  let port: number;
  let child: Awaited<ReturnType<typeof spawnExporter>> | undefined;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'vie-sim-readme-'));
    port = await freePort();
    child = await spawnExporter({
      env: {
        PORT: String(port),
        TWILIO_AUTH_TOKEN: 'my-test-token',
        PUBLIC_URL: `http://localhost:${port}/events`,
        LOG_LEVEL: 'warn',
        OTEL_TRACES_EXPORTER: 'none',
      },
    });
  });
  afterAll(async () => {
    await child?.kill();
    rmSync(cwd, { recursive: true, force: true });
  });

  test('every delivery is answered 200', async () => {
    const run = await runCliAsync(
      ['simulate', '--duration', '1', '--rate', '20', '--speed', '6000', '--token', 'my-test-token'],
      { PORT: String(port) },
      cwd,
    );
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as SimReport;
    assert.ok(report.events.deliveries > 20);
    assert.deepEqual(report.http.byStatus, { '200': report.events.deliveries });
    assert.match(run.stderr, new RegExp(`signed for http://localhost:${port}/events`));
  });

  test('signing another spelling of the URL (127.0.0.1 for localhost) is refused, and the advice says what was signed', async () => {
    const run = await runCliAsync(
      [
        'simulate',
        '--target',
        `http://127.0.0.1:${port}/events`,
        '--duration',
        '0.2',
        '--rate',
        '20',
        '--speed',
        '6000',
        '--token',
        'my-test-token',
      ],
      {},
      cwd,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(Object.keys((JSON.parse(run.stdout) as SimReport).http.byStatus), ['403']);
    assert.match(
      run.stderr,
      new RegExp(
        `The simulator signed http://127\\.0\\.0\\.1:${port}/events \\(the target, as neither --public-url nor PUBLIC_URL was given\\)`,
      ),
    );
    assert.match(run.stderr, /localhost is not 127\.0\.0\.1/);
  });
});
