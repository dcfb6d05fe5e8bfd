// The container's runtime stage, reproduced on this machine without Docker: a directory holding only
// what the Dockerfile's last stage holds (package.json, dist/ and node_modules with the production
// dependency closure alone: no TypeScript, jest, tsx ...), run with the Dockerfile's own ENTRYPOINT,
// CMD, ENV and HEALTHCHECK. It proves that no dev dependency is needed at run time (better-sqlite3's
// native store included), that the health check command works, and that SIGTERM to node drains and
// exits 0. Dependencies are hard links to ./node_modules (same files, no copy, no compile).
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadFixtureEvents } from '../support/fixtures.js';
import { sampleValue } from '../support/prom.js';
import {
  REPO_ROOT,
  ensureBuilt,
  freePort,
  getStatus,
  logLines,
  signedPost,
  waitFor,
  type ExitInfo,
} from '../support/child.js';
import { execForm, instructionsOf, readDockerfile, splitFlags, stageEnv, stageWorkdir } from '../support/dockerfile.js';

const TOKEN = 'prod-layout-token-3f9a1c';
const FIXTURE = 'call-metrics/sdk-edge-one-second-sample.json';
const FIXTURE_TYPE = 'com.twilio.voice.insights.call-metrics.sdk';

const dockerfile = readDockerfile(join(REPO_ROOT, 'Dockerfile'));
const runtime = dockerfile.stages.at(-1);
if (runtime === undefined) throw new Error('Dockerfile has no stage');
const imageEnv = stageEnv(runtime);
const entrypoint = execForm(instructionsOf(runtime, 'ENTRYPOINT').at(-1)?.args ?? '') ?? [];
const cmd = execForm(instructionsOf(runtime, 'CMD').at(-1)?.args ?? '') ?? [];
const healthcheck = execForm(
  splitFlags(instructionsOf(runtime, 'HEALTHCHECK')[0]?.args ?? '').rest.replace(/^CMD\s+/, ''),
);

let root = '';
let dataDir = '';

/** `npm ls --omit=dev --all --parseable`: the installed production closure, as absolute paths. */
function productionPackages(): string[] {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm ls failed: ${r.stderr}`);
  const modules = join(REPO_ROOT, 'node_modules') + sep;
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith(modules))
    .sort();
}

/** Environment of a process in the image: PATH and HOME, the image's ENV, then the run's own settings. */
function containerEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: root, ...imageEnv, ...extra };
}

/** Runs argv[0] (node) with the rest, in the WORKDIR, as the image would. */
function spawnArgv(argv: readonly string[], env: Record<string, string>): ChildProcess {
  assert.equal(argv[0], 'node', 'the image runs node itself');
  return spawn(process.execPath, argv.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  await ensureBuilt();
  // Outside the repository: node looks for node_modules in every parent directory, and the checkout's
  // full node_modules must not be found from here.
  root = mkdtempSync(join(tmpdir(), 'vie-prod-layout-'));
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules would leak modules into the test`);
    if (dirname(dir) === dir) break;
  }
  dataDir = mkdtempSync(join(tmpdir(), 'vie-prod-data-'));
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(REPO_ROOT, f), join(root, f));
  // A real copy of dist/: other test files may rebuild it meanwhile (tsc rewrites files in place).
  cpSync(join(REPO_ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  const copied: string[] = [];
  for (const path of productionPackages()) {
    // A nested package comes with its parent's directory.
    if (copied.some((c) => path.startsWith(c + sep))) continue;
    const target = join(root, relative(REPO_ROOT, path));
    mkdirSync(dirname(target), { recursive: true });
    const r = spawnSync('cp', ['-al', path, target], { encoding: 'utf8' });
    assert.equal(r.status, 0, `cp -al ${path}: ${r.stderr}`);
    copied.push(path);
  }
}, 60_000);

afterAll(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
  if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
});

test('the layout holds the production dependencies and no dev dependency', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(pkg.dependencies))
    assert.ok(existsSync(join(root, 'node_modules', name, 'package.json')), `${name} is there`);
  // Packages the lock file marks dev-only (some devDependencies are also needed by production ones).
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const devOnly = Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && p.dev);
  assert.ok(devOnly.length > 100, `${devOnly.length} dev-only packages in the lock file`);
  for (const [path] of devOnly) assert.ok(!existsSync(join(root, path)), `dev-only ${path} is not there`);
  const top = readdirSync(join(root, 'node_modules'));
  assert.ok(!top.includes('typescript') && !top.includes('jest') && !top.includes('tsx'));
  assert.ok(existsSync(join(root, 'dist', 'main.js')));
  assert.ok(!existsSync(join(root, 'src')), 'no sources');
});

test('check-config passes with the image environment', () => {
  const argv = [...entrypoint, 'check-config'];
  const r = spawnSync(process.execPath, argv.slice(1), {
    cwd: root,
    env: containerEnv({ TWILIO_AUTH_TOKEN: TOKEN, DATA_DIR: dataDir }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /configuration OK/);
  assert.doesNotMatch(r.stdout, new RegExp(TOKEN), 'the token is masked');
});

test('serve (ENTRYPOINT + CMD) answers /healthz and /readyz, counts a signed event, and exits 0 on SIGTERM', async () => {
  assert.equal(stageWorkdir(runtime), '/app', 'WORKDIR, reproduced here by the temporary directory');
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const child = spawnArgv(
    [...entrypoint, ...cmd],
    containerEnv({
      // The image listens on 0.0.0.0 with the default ports; here loopback and free ports.
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      TWILIO_AUTH_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      // No collector here; traces are exported only for finished calls, which this test does not make.
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let exit: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );
  try {
    const origin = `http://127.0.0.1:${port}`;
    await waitFor(
      '/readyz to answer 200',
      async () => {
        if (exit !== undefined) throw new Error(`exited early ${JSON.stringify(exit)}:\n${stderr}\n${stdout}`);
        return (await getStatus(`${origin}/readyz`)) === 200;
      },
      { timeoutMs: 20_000 },
    );
    assert.equal(await getStatus(`${origin}/healthz`), 200);
    // The embedded store (better-sqlite3, native) is open in DATA_DIR.
    assert.ok(
      existsSync(join(dataDir, 'state.sqlite')),
      `state.sqlite in DATA_DIR: ${readdirSync(dataDir).join(', ')}`,
    );

    // The image's HEALTHCHECK command, run as Docker would run it inside the container.
    assert.ok(healthcheck !== undefined, 'HEALTHCHECK in exec form');
    const healthy = spawnSync(process.execPath, healthcheck.slice(1), {
      cwd: root,
      env: containerEnv({ PORT: String(port) }),
      timeout: 10_000,
    });
    assert.equal(healthy.status, 0, `healthcheck against the running exporter: ${String(healthy.stderr)}`);
    const closed = await freePort();
    const unhealthy = spawnSync(process.execPath, healthcheck.slice(1), {
      cwd: root,
      env: containerEnv({ PORT: String(closed) }),
      timeout: 10_000,
    });
    assert.equal(unhealthy.status, 1, 'healthcheck against a closed port fails');

    const events = loadFixtureEvents(FIXTURE).map((e, i) => ({ ...e, id: `EZprodlayout${i}`.padEnd(34, '0') }));
    const res = await signedPost(`${origin}/events`, TOKEN, Buffer.from(JSON.stringify(events)));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { accepted: events.length, duplicate: 0, invalid: 0, unknown_type: 0 });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.equal(
      sampleValue(metrics, 'voice_insights_exporter_events_total', { type: FIXTURE_TYPE, outcome: 'accepted' }),
      events.length,
    );

    const sent = Date.now();
    child.kill('SIGTERM');
    const result = await Promise.race([exited, sleep(8_000, undefined, { ref: false })]);
    assert.ok(result !== undefined, `no exit within 8 s of SIGTERM:\n${stdout.slice(-2000)}`);
    assert.deepEqual(result, { code: 0, signal: null }, stderr);
    assert.ok(Date.now() - sent < 8_000);
    const messages = logLines(stdout).map((l) => l['msg']);
    assert.ok(messages.includes('stopped'), 'logged a clean stop');
    assert.equal(stderr.trim(), '', 'nothing on stderr');
  } finally {
    if (exit === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
  }
});
