// The Dockerfile builds what the repository holds and runs the way the exporter is meant to run, checked
// without a Docker engine (none on the CI machine): Node 20 slim stages, production dependencies only
// in the runtime stage (installed without `prepare`, native install scripts rebuilt), a non-root user
// owning the DATA_DIR volume, a health check on /healthz at the webhook port, the default ports
// exposed (read from src/config.ts's defaults), node itself as PID 1, every COPY source present and
// inside the build context as .dockerignore leaves it. test/ops/production-layout.test.ts runs the
// runtime stage's layout for real.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { parseDockerignore } from '../support/dockerignore.js';
import {
  copiesOf,
  execForm,
  instructionsOf,
  readDockerfile,
  shellWords,
  splitFlags,
  stageEnv,
  stageLabels,
  stageWorkdir,
  type Stage,
} from '../support/dockerfile.js';

const dockerfile = readDockerfile('Dockerfile');
const ignore = parseDockerignore(readFileSync('.dockerignore', 'utf8'));
const stages = dockerfile.stages;
const final = stages.at(-1);
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  license: string;
  dependencies: Record<string, string>;
};
const defaults = (() => {
  const r = loadConfig({});
  assert.ok(r.ok, 'defaults load');
  return r.config;
})();

function finalStage(): Stage {
  assert.ok(final !== undefined, 'the Dockerfile has stages');
  return final;
}

function stageNamed(name: string): Stage {
  const s = stages.find((x) => x.name === name || String(x.index) === name);
  assert.ok(s !== undefined, `stage ${name} exists`);
  return s;
}

/** RUN commands of a stage, shell form, as one string each. */
function runs(stage: Stage): string[] {
  return instructionsOf(stage, 'RUN').map((i) => i.args);
}

/** Files tracked by git under `path` (a file or a directory), relative to the repository root. */
function trackedFiles(path: string): string[] {
  return execFileSync('git', ['ls-files', '--', path], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '');
}

test('every stage starts from a pinned Node 20 slim image', () => {
  assert.ok(stages.length >= 2, 'a multi-stage build');
  for (const s of stages) assert.match(s.from, /^node:20-[a-z0-9.-]*slim$/, `stage ${s.name ?? s.index}: ${s.from}`);
});

test('the runtime stage takes node_modules from a stage that installs production dependencies only, without `prepare`', () => {
  const copies = copiesOf(finalStage());
  const modules = copies.filter((c) => c.sources.some((s) => /(^|\/)node_modules\/?$/.test(s)));
  assert.equal(modules.length, 1, 'node_modules is copied once into the runtime stage');
  const from = modules[0]?.from;
  assert.ok(from !== undefined, 'node_modules comes from another stage, not from the build context');
  const deps = stageNamed(from);
  const ci = runs(deps)
    .flatMap((r) => r.split(/&&|;/))
    .map((c) => shellWords(c.trim()))
    .find((w) => w[0] === 'npm' && w[1] === 'ci');
  assert.ok(ci !== undefined, `stage ${from} runs npm ci`);
  assert.ok(ci.includes('--omit=dev'), `npm ci --omit=dev in stage ${from}: ${ci.join(' ')}`);
  assert.ok(
    ci.includes('--ignore-scripts'),
    '--ignore-scripts, so `prepare` (the tsc build, a dev dependency) does not run there',
  );
  // With scripts off, every production package that has an install script must be rebuilt by name.
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
    packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
  };
  const needScripts = Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && p.dev !== true && p.hasInstallScript === true)
    .map(([path]) => path.replace(/^.*node_modules\//, ''));
  assert.ok(needScripts.includes('better-sqlite3'), 'better-sqlite3 is native');
  const rebuilt = runs(deps)
    .flatMap((r) => r.split(/&&|;/))
    .map((c) => shellWords(c.trim()))
    .filter((w) => w[0] === 'npm' && w[1] === 'rebuild')
    .flatMap((w) => w.slice(2));
  for (const name of needScripts) assert.ok(rebuilt.includes(name), `npm rebuild ${name} in stage ${from}`);
  // Nothing else brings dev dependencies into the runtime stage.
  for (const c of copies.filter((x) => x.from !== undefined && x !== modules[0]))
    for (const s of c.sources) assert.doesNotMatch(s, /node_modules/, `line ${c.line} copies ${s}`);
});

test('the runtime stage gets dist/ from a stage that builds it with the build script', () => {
  const dist = copiesOf(finalStage()).find((c) => c.sources.some((s) => /(^|\/)dist\/?$/.test(s)));
  assert.ok(dist?.from !== undefined, 'dist/ is copied from a build stage');
  const build = stageNamed(dist.from);
  assert.ok(
    runs(build).some((r) => /\bnpm run build\b/.test(r)),
    `stage ${dist.from} runs npm run build`,
  );
  const tsconfig = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { compilerOptions: { outDir: string } };
  const workdir = stageWorkdir(build);
  assert.ok(workdir !== undefined, `stage ${dist.from} has a WORKDIR`);
  assert.equal(dist.sources[0], posix.join(workdir, tsconfig.compilerOptions.outDir), 'copies where tsc writes');
});

test('runs as a non-root user that owns the DATA_DIR volume; NODE_ENV=production', () => {
  const s = finalStage();
  const env = stageEnv(s);
  assert.equal(env['NODE_ENV'], 'production');
  const dataDir = env['DATA_DIR'];
  assert.ok(dataDir !== undefined && dataDir.startsWith('/'), 'DATA_DIR is set to an absolute path');
  const user = instructionsOf(s, 'USER').at(-1)?.args.trim();
  assert.ok(user !== undefined && user !== '', 'USER is set');
  assert.ok(!/^(root|0)(:|$)/.test(user), `USER ${user} is not root`);
  const volumes = instructionsOf(s, 'VOLUME').flatMap((v) => execForm(v.args) ?? v.args.trim().split(/\s+/));
  assert.deepEqual(volumes, [dataDir], 'the one VOLUME is DATA_DIR');
  // The mount point exists in the image owned by that user, so a new named volume starts writable by it.
  const volumeLine = instructionsOf(s, 'VOLUME')[0]?.line ?? 0;
  const chown = instructionsOf(s, 'RUN').find(
    (r) => r.line < volumeLine && new RegExp(`chown\\s+(-R\\s+)?${user}(:\\S+)?\\s+${dataDir}(\\s|$)`).test(r.args),
  );
  assert.ok(chown !== undefined, `RUN chown ${user} ${dataDir} before VOLUME (line ${volumeLine})`);
  const userLine = instructionsOf(s, 'USER').at(-1)?.line ?? 0;
  assert.ok(userLine > (chown?.line ?? 0), 'USER comes after the root-only steps');
});

test('EXPOSE lists the default webhook and metrics ports of src/config.ts', () => {
  const exposed = instructionsOf(finalStage(), 'EXPOSE')
    .flatMap((e) => e.args.trim().split(/\s+/))
    .map((p) => Number(p.replace(/\/tcp$/, '')));
  assert.deepEqual(
    [...exposed].sort((a, b) => a - b),
    [defaults.port, defaults.metricsPort].sort((a, b) => a - b),
  );
  const env = stageEnv(finalStage());
  // If the image ever sets the ports, they must be the ones it exposes.
  if (env['PORT'] !== undefined) assert.equal(Number(env['PORT']), defaults.port);
  if (env['METRICS_PORT'] !== undefined) assert.equal(Number(env['METRICS_PORT']), defaults.metricsPort);
});

test('HEALTHCHECK is exec form, needs no curl, and asks /healthz on the webhook port', () => {
  const checks = instructionsOf(finalStage(), 'HEALTHCHECK');
  assert.equal(checks.length, 1);
  const { flags, rest } = splitFlags(checks[0]?.args ?? '');
  for (const f of ['interval', 'timeout', 'start-period', 'retries']) assert.ok(f in flags, `--${f} set`);
  assert.match(rest, /^CMD\s+\[/, 'CMD in exec form');
  const argv = execForm(rest.replace(/^CMD\s+/, ''));
  assert.ok(argv !== undefined, 'a JSON array');
  assert.equal(argv[0], 'node', 'node is in the image; curl and wget are not');
  const script = argv.join(' ');
  assert.match(script, /\/healthz\b/);
  // The port: PORT when set at run time, else the image's own default, which must be config's.
  const fallback = /process\.env\.PORT\s*\|\|\s*(\d+)/.exec(script)?.[1];
  const env = stageEnv(finalStage());
  assert.equal(Number(fallback ?? env['PORT']), defaults.port, 'the webhook port serves /healthz');
  assert.ok(Number(flags['timeout']?.replace(/s$/, '')) >= 2, 'a timeout above a slow answer');
});

test('ENTRYPOINT and CMD run node dist/main.js serve directly (exec form, no npm, no shell)', () => {
  const s = finalStage();
  const entry = instructionsOf(s, 'ENTRYPOINT').at(-1);
  const cmd = instructionsOf(s, 'CMD').at(-1);
  const entryArgv = entry === undefined ? [] : execForm(entry.args);
  const cmdArgv = cmd === undefined ? [] : execForm(cmd.args);
  assert.ok(entryArgv !== undefined, 'ENTRYPOINT in exec form');
  assert.ok(cmdArgv !== undefined, 'CMD in exec form');
  const argv = [...entryArgv, ...cmdArgv];
  assert.equal(argv[0], 'node', 'node is PID 1, so SIGTERM reaches its handler');
  for (const word of argv) assert.doesNotMatch(word, /^(npm|npx|sh|bash|\/bin\/sh)$/, `no ${word} in between`);
  const main = argv.find((a) => a.endsWith('main.js'));
  assert.equal(main, 'dist/main.js');
  assert.equal(argv.at(-1), 'serve', 'the default command serves');
  assert.equal(stageWorkdir(s), '/app');
  assert.ok(
    copiesOf(s).some((c) => c.dest.replace(/\/$/, '') === `./${posix.dirname(main ?? '')}` && c.from !== undefined),
    'dist/ is copied into the WORKDIR',
  );
  // package.json ("type": "module", and the version the CLI prints) is next to dist/.
  assert.ok(copiesOf(s).some((c) => c.from === undefined && c.sources.includes('package.json')));
});

test('OCI labels: title, licence and version agree with package.json', () => {
  const labels = stageLabels(finalStage());
  assert.equal(labels['org.opencontainers.image.title'], 'voice-insights-exporter');
  assert.equal(labels['org.opencontainers.image.licenses'], pkg.license);
  assert.equal(labels['org.opencontainers.image.version'], pkg.version, 'ARG VERSION defaults to package.json');
  assert.ok((labels['org.opencontainers.image.description'] ?? '') !== '');
});

test('every COPY source from the build context exists, is tracked, and is not excluded by .dockerignore', () => {
  let checked = 0;
  for (const stage of stages) {
    for (const copy of copiesOf(stage)) {
      if (copy.from !== undefined) {
        const source = stages.find((s) => s.name === copy.from);
        assert.ok(
          source !== undefined && source.index < stage.index,
          `COPY --from=${copy.from} names an earlier stage`,
        );
        continue;
      }
      for (const src of copy.sources) {
        assert.ok(!src.includes('*') && !src.startsWith('/') && !src.includes('..'), `${src}: a plain relative path`);
        assert.ok(existsSync(src), `${src} exists (line ${copy.line})`);
        const files = trackedFiles(src);
        assert.ok(files.length > 0, `${src} is tracked by git, so a fresh clone has it`);
        for (const f of files) assert.ok(!ignore.excludes(f), `${f} is in the build context (.dockerignore)`);
        checked += files.length;
      }
    }
  }
  assert.ok(checked > 10, `checked ${checked} files`);
  // tsconfig.build.json extends tsconfig.json: both must be copied where the build runs.
  const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as { extends?: string };
  if (build.extends !== undefined) {
    const sources = stages.flatMap((s) => copiesOf(s).flatMap((c) => c.sources));
    assert.ok(sources.includes(posix.normalize(build.extends)), `${build.extends} is copied`);
  }
});

test('.dockerignore keeps host builds, dependencies, state and secrets out of the context', () => {
  for (const path of [
    'node_modules/koa/package.json',
    'dist/main.js',
    '.git/HEAD',
    'coverage/coverage-summary.json',
    'data/state.sqlite',
    'test/.tmp/x',
    '.env',
    'bench.json',
  ])
    assert.ok(ignore.excludes(path), `${path} is excluded`);
  for (const path of ['package.json', 'package-lock.json', 'src/main.ts', 'tsconfig.json', 'tsconfig.build.json'])
    assert.ok(!ignore.excludes(path), `${path} is included`);
});
