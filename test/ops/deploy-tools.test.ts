// The local stack's configuration files pass the real tools that read them: `promtool check config` on
// deploy/prometheus/prometheus.yml laid out exactly as deploy/compose.yaml mounts it (so the rule_files
// glob finds alerts/*.rules.yml and promtool checks those rules too), `amtool check-config` on the
// Alertmanager configuration (and on it with its commented example receiver switched on), and
// `docker-compose config` on compose.yaml, with and without the demo profile. A missing tool FAILS
// with how to install it (.ci/run installs them): a skipped check proves nothing.
import { afterAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../support/child.js';
import {
  COMPOSE_FILE,
  flagValue,
  hostPathOf,
  loadCompose,
  rec,
  service,
  strings,
  type Service,
} from '../support/compose.js';
import { loadAlertRules } from '../support/ops-queries.js';
import { INSTALL_HINT } from '../support/prometheus.js';

const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';
const AMTOOL = process.env['AMTOOL'] ?? 'amtool';
// e.g. DOCKER_COMPOSE="docker compose" for Compose v2.
const DOCKER_COMPOSE = (process.env['DOCKER_COMPOSE'] ?? 'docker-compose').split(' ');
const AMTOOL_HINT =
  'run `apt-get install -y --no-install-recommends prometheus-alertmanager` (Debian package: amtool; .ci/run installs it)';
const COMPOSE_HINT =
  'run `apt-get install -y --no-install-recommends docker-compose` (Debian package: docker-compose 1.29, needs no ' +
  'Docker engine for `config`; .ci/run installs it), or set DOCKER_COMPOSE="docker compose"';

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

interface Run {
  code: number | null;
  output: string;
  stdout: string;
}

/** Runs a tool; a missing binary fails the test with the hint. */
function run(argv: readonly string[], hint: string, opts: { env?: Record<string, string>; cwd?: string } = {}): Run {
  const [bin = '', ...args] = argv;
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: opts.cwd ?? REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? tmpdir(), ...opts.env },
  });
  if (r.error !== undefined) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    assert.fail(missing ? `\`${bin}\` is not installed or not on PATH: ${hint}` : `${bin}: ${r.error.message}`);
  }
  return { code: r.status, output: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** Copies every bind mount of `s` to `root` + its container path: the files as the container sees them. */
function layOut(s: Service, root: string): void {
  for (const m of s.mounts) {
    if (m.hostPath === undefined) continue;
    const target = join(root, m.target);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(m.hostPath, target, { recursive: true });
  }
}

test('promtool check config passes on prometheus.yml as mounted in the container, rule files included', () => {
  const prometheus = service(loadCompose(), 'prometheus');
  const configPath = flagValue(prometheus.command, '--config.file');
  assert.ok(configPath !== undefined, 'prometheus is started with --config.file');
  assert.ok(hostPathOf(prometheus, configPath) !== undefined, `${configPath} is a bind mount`);
  const root = tempDir('vie-prom-layout-');
  layOut(prometheus, root);
  const r = run([PROMTOOL, 'check', 'config', join(root, configPath)], INSTALL_HINT);
  assert.equal(r.code, 0, r.output);
  const rules = loadAlertRules();
  assert.match(r.output, /SUCCESS: 1 rule files found/, r.output);
  assert.match(r.output, /alerts\/voice-insights\.rules\.yml/, 'the repository rule file is the one loaded');
  assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`), r.output);
});

test('without the alerts mount the same check finds no rule file, so the rule count above is the mount at work', () => {
  const prometheus = service(loadCompose(), 'prometheus');
  const configPath = flagValue(prometheus.command, '--config.file') ?? '';
  const root = tempDir('vie-prom-nomount-');
  layOut({ ...prometheus, mounts: prometheus.mounts.filter((m) => !m.target.endsWith('/alerts')) }, root);
  const r = run([PROMTOOL, 'check', 'config', join(root, configPath)], INSTALL_HINT);
  // promtool reports an empty glob as zero rule files, which is what a missing mount would look like.
  assert.doesNotMatch(r.output, /SUCCESS: 1 rule files found/, r.output);
});

test('amtool check-config passes on alertmanager.yml', () => {
  const r = run([AMTOOL, 'check-config', 'deploy/alertmanager/alertmanager.yml'], AMTOOL_HINT);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /SUCCESS/);
});

test("amtool check-config passes with the file's commented example receiver switched on and routed to", () => {
  const text = readFileSync('deploy/alertmanager/alertmanager.yml', 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /#\s*Example \(uncomment\):/.test(l));
  const end = lines.findIndex((l) => /#\s*End of example\./.test(l));
  assert.ok(start >= 0 && end > start, 'the example is delimited');
  // As the file says: delete the `#   ` after each line's indentation.
  const uncommented = lines.map((l, i) => (i > start && i < end ? l.replace(/^(\s*)# {3}/, '$1') : l));
  const doc = rec(parse(uncommented.join('\n')), 'alertmanager.yml with the example');
  const receivers = (doc['receivers'] as { name: string }[]).map((r) => r.name);
  assert.ok(receivers.length >= 2, `the example adds a receiver: ${receivers.join(', ')}`);
  const example = receivers.find((n) => n !== 'null') ?? '';
  rec(doc['route'], 'route')['receiver'] = example;
  const file = join(tempDir('vie-am-'), 'alertmanager.yml');
  writeFileSync(file, stringify(doc));
  const r = run([AMTOOL, 'check-config', file], AMTOOL_HINT);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, new RegExp(`${receivers.length} receivers`));
});

function composeConfig(args: readonly string[], env: Record<string, string> = {}): Run {
  // An empty env file: a developer's deploy/.env must not change what is checked.
  const envFile = join(tempDir('vie-compose-env-'), 'empty.env');
  writeFileSync(envFile, '');
  return run([...DOCKER_COMPOSE, '-f', COMPOSE_FILE, '--env-file', envFile, ...args], COMPOSE_HINT, { env });
}

test('docker-compose config -q accepts compose.yaml (Compose file format of docker-compose 1.29 and v2)', () => {
  const r = composeConfig(['config', '-q']);
  assert.equal(r.code, 0, r.output);
  assert.equal(r.output.trim(), '', 'no warnings');
});

test('docker-compose config accepts the demo profile, and resolves what the simulator signs as the exporter checks it', () => {
  const check = (env: Record<string, string>, publicUrl: string, token: string) => {
    const r = composeConfig(['--profile', 'demo', 'config'], env);
    assert.equal(r.code, 0, r.output);
    const services = rec(rec(parse(r.stdout), 'compose config')['services'], 'services');
    assert.ok('simulator' in services, 'the demo profile adds the simulator');
    const exporter = rec(services['exporter'], 'exporter');
    const simulator = rec(services['simulator'], 'simulator');
    const exporterEnv = rec(exporter['environment'], 'exporter.environment');
    const command = strings(simulator['command'], 'simulator.command');
    assert.equal(exporterEnv['PUBLIC_URL'], publicUrl);
    assert.equal(flagValue(command, '--public-url'), publicUrl, 'the simulator signs for PUBLIC_URL');
    assert.equal(exporterEnv['TWILIO_AUTH_TOKEN'], token);
    assert.equal(rec(simulator['environment'], 'simulator.environment')['TWILIO_AUTH_TOKEN'], token);
    // The tests' own reading of compose.yaml (test/support/compose.ts) agrees with docker-compose's.
    const ours = loadCompose(env);
    assert.deepEqual(service(ours, 'simulator').command, command);
    assert.equal(service(ours, 'exporter').environment['PUBLIC_URL'], publicUrl);
  };
  check({}, 'http://localhost:8080/events', 'demo-token');
  check(
    { PUBLIC_URL: 'https://hooks.example.com/events', TWILIO_AUTH_TOKEN: 'tok-new,tok-old' },
    'https://hooks.example.com/events',
    'tok-new,tok-old',
  );
});
