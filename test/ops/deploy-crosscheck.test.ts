// The deployment files agree with each other and with the code (no Docker engine or Kubernetes needed):
// deploy/compose.yaml's mounts exist in the repository, images are pinned, the exporter's ports are
// src/config.ts's defaults as the Dockerfile exposes them, every address one component gives another
// (Prometheus scrape and alerting targets, Grafana datasource URLs, the collector's exporters, the
// exporter's OTLP endpoint, the simulator's target) names a compose service and a port that service
// listens on, the exporter's metrics reach Prometheus once (scraped, not also through the collector),
// Grafana's provisioned datasources are the ones the dashboards' variables and links resolve to, and
// deploy/kubernetes/voice-insights-exporter.yaml uses real configuration variables, ports and probes.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadConfig, type Config } from '../../src/config.js';
import { parseSimulateOptions } from '../../src/sim/options.js';
import { CATALOG } from '../../src/telemetry/catalog.js';
import { REPO_ROOT } from '../support/child.js';
import {
  flagValue,
  hostPathOf,
  isRecord,
  loadCompose,
  rec,
  service,
  strings,
  type Doc,
  type Service,
} from '../support/compose.js';
import { execForm, instructionsOf, readDockerfile, splitFlags, stageEnv } from '../support/dockerfile.js';
import { startExporter, type Harness } from '../support/harness.js';
import { JOB, exprProblems, metricNamesIn } from '../support/ops-queries.js';
import { INSTALL_HINT } from '../support/prometheus.js';

const compose = loadCompose();
const runtime = readDockerfile(join(REPO_ROOT, 'Dockerfile')).stages.at(-1);
if (runtime === undefined) throw new Error('Dockerfile has no stage');
const imageEnv = stageEnv(runtime);
const exposed = instructionsOf(runtime, 'EXPOSE')
  .flatMap((e) => e.args.trim().split(/\s+/))
  .map((p) => Number(p.replace(/\/tcp$/, '')))
  .sort((a, b) => a - b);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

function configOf(env: Record<string, string>, what: string): Config {
  const r = loadConfig(env);
  assert.ok(r.ok, `${what} is a valid configuration: ${r.ok ? '' : r.problems.join('; ')}`);
  return r.config;
}
const defaults = configOf({}, 'the defaults');
const exporter = service(compose, 'exporter');
/** What the exporter container runs with: the image's ENV, then compose's environment. */
const exporterConfig = configOf({ ...imageEnv, ...exporter.environment }, "the compose exporter's environment");

/** A YAML scalar as text (numbers and booleans too); undefined stays undefined. */
function scalar(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  assert.ok(typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean', `a scalar: ${JSON.stringify(v)}`);
  return String(v);
}

function readYaml(path: string): Doc {
  return rec(parse(readFileSync(path, 'utf8')), relative(REPO_ROOT, path));
}

/** The host file a service reads at `containerPath`; fails unless a bind mount provides it. */
function mountedFile(s: Service, containerPath: string): string {
  const host = hostPathOf(s, containerPath);
  assert.ok(host !== undefined && existsSync(host), `${s.name}: ${containerPath} is a bind mount of a repository file`);
  return host;
}

/** host:port of a URL or a bare `host:port`. */
function hostPort(address: string): { host: string; port: number } {
  const url = new URL(/^[a-z]+:\/\//i.test(address) ? address : `tcp://${address}`);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { host: url.hostname, port };
}

const portOf = (endpoint: unknown): number => hostPort(String(endpoint)).port;

/** The collector's --config files merged as the collector merges them: maps deeply, anything else replaced. */
function mergeConfigs(docs: readonly Doc[]): Doc {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isRecord(a) || !isRecord(b)) return b;
    const out: Doc = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  };
  return docs.reduce<Doc>((acc, d) => rec(merge(acc, d), 'merged config'), {});
}

const collector = service(compose, 'otel-collector');
const collectorConfig = mergeConfigs(
  flagValuesOf(collector.command, '--config').map((p) => readYaml(mountedFile(collector, p.replace(/^file:/, '')))),
);
const collectorPipelines = rec(rec(collectorConfig['service'], 'collector service')['pipelines'], 'pipelines');

function flagValuesOf(command: readonly string[] | undefined, name: string): string[] {
  return (command ?? []).filter((w) => w.startsWith(`${name}=`)).map((w) => w.slice(name.length + 1));
}

const tempo = service(compose, 'tempo');
const tempoConfig = readYaml(mountedFile(tempo, flagValue(tempo.command, '-config.file') ?? ''));
const prometheus = service(compose, 'prometheus');
const prometheusConfigPath = flagValue(prometheus.command, '--config.file') ?? '';
const prometheusConfig = readYaml(mountedFile(prometheus, prometheusConfigPath));
const grafana = service(compose, 'grafana');

/** Ports each service listens on inside the network, from its own configuration where it has one. */
function listeningPorts(): Map<string, Set<number>> {
  const ports = new Map<string, Set<number>>();
  ports.set('exporter', new Set([exporterConfig.port, exporterConfig.metricsPort]));
  // The images' defaults, unless the command moves them.
  const listen = (s: Service, flag: string, fallback: number) =>
    new Set([portOf(flagValue(s.command, flag) ?? `0.0.0.0:${fallback}`)]);
  ports.set('prometheus', listen(prometheus, '--web.listen-address', 9090));
  ports.set('alertmanager', listen(service(compose, 'alertmanager'), '--web.listen-address', 9093));
  ports.set('grafana', new Set([Number(grafana.environment['GF_SERVER_HTTP_PORT'] ?? 3000)]));
  const server = rec(tempoConfig['server'], 'tempo server');
  const otlp = rec(
    rec(rec(rec(tempoConfig['distributor'], 'distributor')['receivers'], 'receivers')['otlp'], 'otlp')['protocols'],
    'tempo otlp protocols',
  );
  ports.set(
    'tempo',
    new Set([
      Number(server['http_listen_port'] ?? 3200),
      ...Object.values(otlp).map((p) => portOf(rec(p, 'tempo otlp protocol')['endpoint'])),
    ]),
  );
  const used = new Set(Object.values(collectorPipelines).flatMap((p) => strings(rec(p, 'pipeline')['receivers'], 'r')));
  const collectorPorts = new Set<number>();
  for (const [id, r] of Object.entries(rec(collectorConfig['receivers'], 'receivers'))) {
    if (!used.has(id) || !isRecord(r) || !isRecord(r['protocols'])) continue;
    for (const p of Object.values(r['protocols'])) collectorPorts.add(portOf(rec(p, `${id} protocol`)['endpoint']));
  }
  for (const e of Object.values(rec(collectorConfig['extensions'] ?? {}, 'extensions')))
    if (isRecord(e) && e['endpoint'] !== undefined) collectorPorts.add(portOf(e['endpoint']));
  ports.set('otel-collector', collectorPorts);
  return ports;
}
const listening = listeningPorts();

/** `address` (URL or host:port) names a compose service and a port it listens on; `self` resolves localhost. */
function assertReachable(address: string, what: string, self?: string): { host: string; port: number } {
  const { host, port } = hostPort(address);
  const target = host === 'localhost' || host === '127.0.0.1' ? self : host;
  assert.ok(target !== undefined && compose.services.has(target), `${what}: ${host} is a compose service`);
  const ports = listening.get(target);
  assert.ok(ports?.has(port), `${what}: ${target} listens on ${port} (it listens on ${[...(ports ?? [])].join(', ')})`);
  return { host: target, port };
}

let harness: Harness | undefined;
const temps: string[] = [];
beforeAll(async () => {
  harness = await startExporter();
});
afterAll(async () => {
  await harness?.stop();
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

test('every bind mount is a tracked file or directory of the repository, read-only; named volumes are declared', () => {
  let binds = 0;
  for (const s of compose.services.values()) {
    for (const m of s.mounts) {
      if (m.hostPath === undefined) {
        assert.ok(compose.volumes.includes(m.volume ?? ''), `${s.name}: volume ${m.volume} is declared`);
        continue;
      }
      binds++;
      const rel = relative(REPO_ROOT, m.hostPath);
      assert.ok(!rel.startsWith('..'), `${s.name}: ${m.hostPath} is inside the repository`);
      assert.ok(existsSync(m.hostPath), `${s.name}: ${rel} exists`);
      const tracked = spawnSync('git', ['ls-files', '--', rel], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
      assert.ok(tracked !== '', `${s.name}: ${rel} is tracked by git (a fresh clone has it)`);
      assert.ok(m.readOnly, `${s.name}: ${rel} is mounted read-only`);
    }
  }
  assert.ok(binds >= 8, `${binds} bind mounts checked`);
});

test('every published port binds loopback only: the demo token is public, so nothing listens beyond this host by default', () => {
  const raw = parse(readFileSync(join(REPO_ROOT, 'deploy', 'compose.yaml'), 'utf8')) as {
    services: Record<string, { ports?: unknown[] }>;
  };
  let published = 0;
  for (const [name, service] of Object.entries(raw.services)) {
    for (const entry of service.ports ?? []) {
      published++;
      assert.match(String(entry), /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${String(entry)}`);
    }
  }
  assert.ok(published >= 6, 'the exporter, Grafana, Prometheus, Alertmanager and Tempo publish ports');
});

test('every pulled image is pinned to a version; built ones come from the repository Dockerfile', () => {
  for (const s of compose.services.values()) {
    assert.ok(s.image !== undefined, `${s.name} names its image`);
    if (s.build !== undefined) {
      assert.equal(
        resolve(REPO_ROOT, 'deploy', String(s.build['context'])),
        resolve(REPO_ROOT),
        `${s.name} builds the repository`,
      );
      assert.equal(s.build['dockerfile'] ?? 'Dockerfile', 'Dockerfile', `${s.name} builds ../Dockerfile`);
      assert.doesNotMatch(s.image, /\//, `${s.name}: a local image name, never pushed or pulled`);
      continue;
    }
    const tag = /:([^:/@]+)$/.exec(s.image)?.[1];
    assert.ok(tag !== undefined && tag !== 'latest', `${s.name}: ${s.image} has a tag that is not latest`);
    assert.match(tag, /^v?\d+\.\d+\.\d+/, `${s.name}: ${s.image} pins a release`);
  }
});

test('the exporter publishes the default ports the Dockerfile exposes, keeps DATA_DIR on a volume, and drains on stop', () => {
  const containerPorts = exporter.ports.map((p) => p.container).sort((a, b) => a - b);
  assert.deepEqual(
    containerPorts,
    [defaults.port, defaults.metricsPort].sort((a, b) => a - b),
  );
  assert.deepEqual(containerPorts, exposed, 'as the Dockerfile EXPOSEs');
  assert.deepEqual(
    [exporterConfig.port, exporterConfig.metricsPort].sort((a, b) => a - b),
    containerPorts,
    'the environment does not move them',
  );
  for (const p of exporter.ports) assert.equal(p.host, p.container, 'published on the same host ports');
  const data = exporter.mounts.find((m) => m.target === exporterConfig.dataDir);
  assert.ok(data?.volume !== undefined, `DATA_DIR ${exporterConfig.dataDir} is a named volume`);
  const grace = scalar(exporter.raw['stop_grace_period']) ?? '10s';
  const graceMs = Number(/^(\d+)s$/.exec(grace)?.[1]) * 1000;
  assert.ok(graceMs > exporterConfig.shutdownTimeoutMs, `stop_grace_period ${grace} > SHUTDOWN_TIMEOUT_MS`);
  assert.ok(exporterConfig.authTokens.length > 0, 'a token, so the exporter is ready in the demo');
  assert.ok(exporterConfig.publicUrl !== undefined, 'PUBLIC_URL set, so signatures do not depend on the Host header');
  assert.equal(exporterConfig.store.kind, 'embedded', 'one replica, embedded store on the volume');
});

test("the exporter's OTLP endpoint is the collector's HTTP receiver, which feeds the traces pipeline to Tempo", () => {
  const endpoint = exporter.environment['OTEL_EXPORTER_OTLP_ENDPOINT'];
  assert.ok(endpoint !== undefined, 'OTEL_EXPORTER_OTLP_ENDPOINT set');
  assert.ok(exporterConfig.traces !== undefined && exporterConfig.traces.protocol.startsWith('http/'));
  const { port } = assertReachable(endpoint, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const traces = rec(collectorPipelines['traces'], 'traces pipeline');
  const receivers = rec(collectorConfig['receivers'], 'receivers');
  const httpReceiver = strings(traces['receivers'], 'traces.receivers').find((id) => {
    const protocols = rec(receivers[id], id)['protocols'];
    return isRecord(protocols) && isRecord(protocols['http']) && portOf(protocols['http']['endpoint']) === port;
  });
  assert.ok(httpReceiver !== undefined, `a traces receiver takes OTLP/HTTP on ${port}`);
  const exporters = strings(traces['exporters'], 'traces.exporters');
  const tempoExport = exporters
    .map((id) => String(rec(rec(collectorConfig['exporters'], 'exporters')[id], id)['endpoint']))
    .map((e) => assertReachable(e, 'traces exporter'));
  assert.ok(
    tempoExport.some((t) => t.host === 'tempo'),
    'traces go to Tempo',
  );
});

test("every exporter of the collector's pipelines reaches a service port; Prometheus accepts what is remote-written", () => {
  const exporters = rec(collectorConfig['exporters'], 'exporters');
  for (const [name, p] of Object.entries(collectorPipelines)) {
    for (const id of strings(rec(p, name)['exporters'], `${name}.exporters`)) {
      const endpoint = rec(exporters[id], id)['endpoint'];
      assert.ok(typeof endpoint === 'string', `${id} has an endpoint`);
      const { host } = assertReachable(endpoint, `collector exporter ${id}`);
      if (id.startsWith('prometheusremotewrite') && host === 'prometheus')
        assert.ok(
          (prometheus.command ?? []).includes('--web.enable-remote-write-receiver'),
          'Prometheus runs with the remote-write receiver',
        );
    }
  }
});

test("the exporter's metrics reach Prometheus once: scraped directly, not also scraped or pushed through the collector", () => {
  const scrapes = (prometheusConfig['scrape_configs'] as unknown[]).map((s) => rec(s, 'scrape config'));
  const job = scrapes.find((s) => s['job_name'] === JOB);
  assert.ok(job !== undefined, `job ${JOB}, which the dashboards and alert rules expect`);
  assert.equal(job['metrics_path'] ?? '/metrics', '/metrics');
  const targets = (job['static_configs'] as unknown[]).flatMap((c) => strings(rec(c, 'static')['targets'], 'targets'));
  assert.deepEqual(
    targets.map((t) => assertReachable(t, 'scrape target')),
    [{ host: 'exporter', port: exporterConfig.metricsPort }],
  );
  for (const [name, p] of Object.entries(collectorPipelines))
    for (const id of strings(rec(p, name)['receivers'], `${name}.receivers`))
      assert.doesNotMatch(id, /^prometheus(\/|$)/, `the collector's ${name} pipeline does not scrape as well (${id})`);
  assert.ok(exporterConfig.otlpMetrics === undefined, 'the exporter does not push metrics over OTLP as well');
});

test('every Prometheus scrape and alerting target is a service port; rule_files load the repository alert rules', () => {
  for (const s of (prometheusConfig['scrape_configs'] as unknown[]).map((x) => rec(x, 'scrape config')))
    for (const c of (s['static_configs'] as unknown[] | undefined) ?? [])
      for (const t of strings(rec(c, 'static')['targets'], 'targets'))
        assertReachable(t, `scrape job ${String(s['job_name'])}`, 'prometheus');
  const alerting = rec(prometheusConfig['alerting'], 'alerting');
  const ams = (alerting['alertmanagers'] as unknown[]).flatMap((a) =>
    (rec(a, 'alertmanagers')['static_configs'] as unknown[]).flatMap((c) => strings(rec(c, 's')['targets'], 't')),
  );
  assert.ok(ams.length > 0);
  for (const t of ams) assert.equal(assertReachable(t, 'alertmanager target').host, 'alertmanager');
  const alertmanager = service(compose, 'alertmanager');
  mountedFile(alertmanager, flagValue(alertmanager.command, '--config.file') ?? '');
  // rule_files are relative to the configuration file, inside the container.
  const loaded: string[] = [];
  for (const pattern of strings(prometheusConfig['rule_files'], 'rule_files')) {
    const containerPattern = posix.resolve(posix.dirname(prometheusConfigPath), pattern);
    const hostDir = hostPathOf(prometheus, posix.dirname(containerPattern));
    assert.ok(hostDir !== undefined, `${posix.dirname(containerPattern)} is mounted`);
    const glob = new RegExp(`^${posix.basename(containerPattern).replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`);
    loaded.push(
      ...readdirSync(hostDir)
        .filter((f) => glob.test(f))
        .map((f) => relative(REPO_ROOT, join(hostDir, f))),
    );
  }
  assert.deepEqual(loaded, ['alerts/voice-insights.rules.yml']);
});

// ---------------------------------------------------------------------------------------------
// Grafana

function provisioned(kind: 'datasources' | 'dashboards'): Doc[] {
  const dir = mountedFile(grafana, `/etc/grafana/provisioning/${kind}`);
  assert.ok(statSync(dir).isDirectory());
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length > 0, `provisioning/${kind} has files`);
  return files.map((f) => readYaml(join(dir, f)));
}

interface Datasource {
  name: string;
  type: string;
  uid: string;
  url: string;
  isDefault?: boolean;
  jsonData?: Doc;
}
const datasources = provisioned('datasources').flatMap((d) => (d['datasources'] as Datasource[] | undefined) ?? []);

const dashboardFiles = readdirSync(join(REPO_ROOT, 'dashboards')).filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((f) => ({
  file: f,
  doc: rec(JSON.parse(readFileSync(join(REPO_ROOT, 'dashboards', f), 'utf8')), f),
}));

/** Every { type, uid } datasource reference in a dashboard, and every Explore link's panes. */
function datasourceRefs(v: unknown, out: { type: string | undefined; uid: string }[] = []): typeof out {
  if (Array.isArray(v)) for (const x of v) datasourceRefs(x, out);
  else if (isRecord(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'datasource' && isRecord(x) && typeof x['uid'] === 'string')
        out.push({ type: typeof x['type'] === 'string' ? x['type'] : undefined, uid: x['uid'] });
      else if (k === 'datasource' && typeof x === 'string') out.push({ type: undefined, uid: x });
      datasourceRefs(x, out);
    }
  } else if (typeof v === 'string') {
    for (const m of v.matchAll(/\/explore\?[^)\s"]*panes=([^&)\s"]+)/g)) {
      const panes: unknown = JSON.parse(decodeURIComponent(m[1] ?? ''));
      datasourceRefs(panes, out);
    }
  }
  return out;
}

test('Grafana datasources: fixed unique uids, URLs that reach Prometheus and Tempo, Prometheus the default', () => {
  assert.deepEqual(datasources.map((d) => d.type).sort(), ['prometheus', 'tempo']);
  assert.equal(new Set(datasources.map((d) => d.uid)).size, datasources.length);
  for (const d of datasources) {
    assert.match(d.uid, /^[a-z0-9-]+$/, `${d.name} has a fixed uid`);
    assertReachable(d.url, `datasource ${d.name}`);
  }
  assert.equal(assertReachable(datasources.find((d) => d.type === 'prometheus')?.url ?? '', 'p').host, 'prometheus');
  assert.equal(assertReachable(datasources.find((d) => d.type === 'tempo')?.url ?? '', 't').host, 'tempo');
  const defaults = datasources.filter((d) => d.isDefault === true);
  assert.equal(defaults.length, 1);
  assert.equal(defaults[0]?.type, 'prometheus', 'dashboards preselect the default Prometheus');
  const prom = datasources.find((d) => d.type === 'prometheus');
  const interval = scalar(prom?.jsonData?.['timeInterval']) ?? '';
  const job = (prometheusConfig['scrape_configs'] as Doc[]).find((s) => s['job_name'] === JOB);
  assert.equal(interval, String(job?.['scrape_interval'] ?? rec(prometheusConfig['global'], 'g')['scrape_interval']));
});

test("every dashboard's datasource variables, panel datasources and Explore links resolve to a provisioned datasource", () => {
  // Every dashboard the generator writes (scripts/dashboards/), the conferences one included.
  assert.deepEqual(dashboards.map((d) => d.file).sort(), [
    'call-quality.json',
    'calls.json',
    'conferences.json',
    'exporter-health.json',
  ]);
  for (const { file, doc } of dashboards) {
    const variables = (rec(doc['templating'], 'templating')['list'] as Doc[]).filter((v) => v['type'] === 'datasource');
    const varType = new Map(variables.map((v) => [String(v['name']), String(v['query'])]));
    for (const [name, type] of varType)
      assert.ok(
        datasources.some((d) => d.type === type),
        `${file}: variable ${name} (${type}) has a datasource to pick`,
      );
    const refs = datasourceRefs(doc['panels']).concat(datasourceRefs(doc['templating']));
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      const variable = /^\$\{(\w+)\}$|^\$(\w+)$/.exec(ref.uid);
      if (variable !== null) {
        const name = variable[1] ?? variable[2] ?? '';
        assert.ok(varType.has(name), `${file}: ${ref.uid} is a datasource variable`);
        if (ref.type !== undefined) assert.equal(varType.get(name), ref.type, `${file}: ${ref.uid} is a ${ref.type}`);
      } else if (ref.uid !== '-- Grafana --' && ref.uid !== 'grafana') {
        assert.ok(
          datasources.some((d) => d.uid === ref.uid),
          `${file}: datasource uid ${ref.uid} is provisioned`,
        );
      }
    }
  }
  const calls = dashboards.find((d) => d.file === 'calls.json');
  const refs = datasourceRefs(calls?.doc['panels']);
  assert.ok(
    refs.some((r) => r.type === 'tempo'),
    'the calls dashboard queries and links to the tracing datasource',
  );
});

test("Tempo's traces-to-metrics queries name catalog metrics and labels, use the Prometheus uid, and parse", () => {
  const tempoDs = datasources.find((d) => d.type === 'tempo');
  const t2m = rec(tempoDs?.jsonData?.['tracesToMetrics'], 'tracesToMetrics');
  assert.equal(t2m['datasourceUid'], datasources.find((d) => d.type === 'prometheus')?.uid);
  // Grafana expands $VAR in provisioning files; $$ is a literal $. Only $$ may appear.
  const file = join(mountedFile(grafana, '/etc/grafana/provisioning/datasources'));
  for (const f of readdirSync(file)) {
    const text = readFileSync(join(file, f), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    assert.doesNotMatch(text.replace(/\$\$/g, ''), /\$/, `${f}: every $ is escaped as $$`);
  }
  const tags = (t2m['tags'] as { key: string; value: string }[]).map((t) => t.value);
  assert.ok(tags.length > 0);
  const queries = (t2m['queries'] as { name: string; query: string }[]).map((q) => q.query.replace(/\$\$/g, '$'));
  const withTags = queries.map((q) => q.replace('$__tags', tags.map((l) => `${l}="x"`).join(', ')));
  const withoutTags = queries.map((q) => q.replace('$__tags', ''));
  for (const q of withTags) {
    assert.deepEqual(exprProblems(q), [], q);
    for (const name of metricNamesIn(q)) {
      const def = CATALOG.find((d) => name === d.name || name.startsWith(`${d.name}_`));
      for (const l of tags) assert.ok(def?.labels.includes(l), `${name} has label ${l}`);
    }
  }
  // promtool parses every query, with tags and with none ($__tags empty leaves a trailing comma).
  const dir = mkdtempSync(join(tmpdir(), 'vie-t2m-'));
  temps.push(dir);
  const rules = join(dir, 't2m.rules.yml');
  const all = [...withTags, ...withoutTags];
  writeFileSync(
    rules,
    stringify({ groups: [{ name: 't2m', rules: all.map((expr, i) => ({ record: `t2m:q${i}`, expr })) }] }),
  );
  const r = spawnSync(process.env['PROMTOOL'] ?? 'promtool', ['check', 'rules', rules], { encoding: 'utf8' });
  assert.ok(r.error === undefined, `promtool: ${INSTALL_HINT}`);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('the dashboard provider loads the mounted dashboards directory; the home dashboard is one of them', () => {
  const providers = provisioned('dashboards').flatMap((d) => (d['providers'] as Doc[] | undefined) ?? []);
  assert.equal(providers.length, 1);
  const path = String(rec(providers[0]?.['options'], 'options')['path']);
  assert.equal(mountedFile(grafana, path), join(REPO_ROOT, 'dashboards'), `${path} is the repository's dashboards/`);
  const home = grafana.environment['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'];
  if (home !== undefined) {
    assert.ok(home.startsWith(`${path}/`), 'the home dashboard is a provisioned one');
    assert.ok(dashboardFiles.includes(basename(mountedFile(grafana, home))));
  }
});

test('Tempo listens for OTLP on all interfaces and stores on a volume that tempo-init hands to its user first', () => {
  const otlp = rec(
    rec(rec(rec(tempoConfig['distributor'], 'd')['receivers'], 'r')['otlp'], 'otlp')['protocols'],
    'protocols',
  );
  for (const [name, p] of Object.entries(otlp))
    assert.match(String(rec(p, name)['endpoint']), /^0\.0\.0\.0:\d+$/, `tempo otlp ${name} on 0.0.0.0`);
  const storage = rec(rec(tempoConfig['storage'], 'storage')['trace'], 'trace');
  const dataMount = tempo.mounts.find((m) => m.volume !== undefined);
  assert.ok(dataMount !== undefined, 'tempo has a data volume');
  for (const key of ['wal', 'local'])
    assert.ok(String(rec(storage[key], key)['path']).startsWith(`${dataMount.target}/`), `${key} is on the volume`);
  const init = service(compose, 'tempo-init');
  assert.equal(init.image, tempo.image);
  assert.ok(init.mounts.some((m) => m.volume === dataMount.volume && m.target === dataMount.target));
  assert.deepEqual(strings(init.raw['entrypoint'], 'entrypoint').slice(-1), [dataMount.target]);
  const dependsOn = rec(tempo.raw['depends_on'], 'tempo depends_on');
  assert.equal(rec(dependsOn['tempo-init'], 'tempo-init')['condition'], 'service_completed_successfully');
});

test('depends_on conditions can be met: healthy means a health check (compose or the image), completed means one-shot', () => {
  const dockerHealthcheck = instructionsOf(runtime, 'HEALTHCHECK').length > 0;
  for (const s of compose.services.values()) {
    const deps = s.raw['depends_on'];
    const entries: [string, string][] = Array.isArray(deps)
      ? deps.map((d) => [String(d), 'service_started'])
      : Object.entries(isRecord(deps) ? deps : {}).map(([k, v]) => [k, String(rec(v, k)['condition'])]);
    for (const [name, condition] of entries) {
      const target = service(compose, name);
      assert.ok(
        target.profiles.length === 0 || target.profiles.every((p) => s.profiles.includes(p)),
        `${s.name} does not depend on ${name}, which only runs in a profile`,
      );
      if (condition === 'service_healthy')
        assert.ok(
          target.raw['healthcheck'] !== undefined || (target.build !== undefined && dockerHealthcheck),
          `${name} has a health check`,
        );
      if (condition === 'service_completed_successfully')
        assert.ok([undefined, 'no'].includes(target.raw['restart'] as string | undefined), `${name} runs once`);
    }
  }
});

test("the simulator (demo profile) posts to the exporter's webhook with options the CLI accepts, signed as the exporter checks", () => {
  const sim = service(compose, 'simulator');
  assert.deepEqual(sim.profiles, ['demo']);
  assert.equal(sim.image, exporter.image, 'the same image');
  const [command, ...args] = sim.command ?? [];
  assert.equal(command, 'simulate');
  const raw: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] ?? '';
    assert.match(flag, /^--[a-z-]+$/, `flag ${flag}`);
    raw[flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = args[i + 1] ?? '';
  }
  const parsed = parseSimulateOptions(raw, sim.environment);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.join('; '));
  const o = parsed.options;
  const target = assertReachable(o.target, 'simulator --target');
  assert.deepEqual(target, { host: 'exporter', port: exporterConfig.port });
  assert.equal(new URL(o.target).pathname, exporterConfig.webhookPath);
  assert.equal(o.publicUrl, exporterConfig.publicUrl, 'signs for the URL the exporter verifies against');
  assert.equal(o.token, exporterConfig.authTokens[0], "signs with the exporter's (first) token");
  assert.ok(o.durationSeconds >= 7 * 86400, 'runs for days');
  // The simulator stops and reports on SIGINT (src/sim/cli.ts), so that is the stop signal.
  const stopSignal = scalar(sim.raw['stop_signal']) ?? 'SIGTERM';
  assert.match(
    readFileSync(join(REPO_ROOT, 'src/sim/cli.ts'), 'utf8'),
    new RegExp(`process\\.(on|once)\\(\\s*'${stopSignal}'`),
    `the simulator handles its stop_signal ${stopSignal}`,
  );
  const dependsOn = rec(sim.raw['depends_on'], 'simulator depends_on');
  assert.equal(rec(dependsOn['exporter'], 'exporter')['condition'], 'service_healthy');
});

// ---------------------------------------------------------------------------------------------
// Kubernetes

/** The variable names of src/config.ts's environment schema (`envSchema = z.object({ ... })`), from its syntax tree. */
function configVariableNames(): Set<string> {
  const file = join(REPO_ROOT, 'src/config.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'envSchema' &&
      node.initializer !== undefined &&
      ts.isCallExpression(node.initializer)
    ) {
      const shape = node.initializer.arguments[0];
      if (shape !== undefined && ts.isObjectLiteralExpression(shape))
        for (const p of shape.properties)
          if (p.name !== undefined && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) names.add(p.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

const k8sDocs = parseAllDocuments(
  readFileSync(join(REPO_ROOT, 'deploy/kubernetes/voice-insights-exporter.yaml'), 'utf8'),
).map((d) => rec(d.toJS(), 'manifest document'));
const byKind = (kind: string) => k8sDocs.filter((d) => d['kind'] === kind);
const statefulSet = (() => {
  const s = byKind('StatefulSet');
  assert.equal(s.length, 1);
  return rec(s[0], 'StatefulSet');
})();
const podSpec = rec(rec(rec(statefulSet['spec'], 'spec')['template'], 'template')['spec'], 'pod spec');
const container = rec((podSpec['containers'] as unknown[])[0], 'container');
const containerPorts = new Map(
  (container['ports'] as Doc[]).map((p) => [String(p['name']), Number(p['containerPort'])] as const),
);
const k8sEnv = (container['env'] as Doc[]).map((e) => ({
  name: String(e['name']),
  value: scalar(e['value']) ?? 'from-a-secret',
}));
const k8sConfig = configOf(
  { ...imageEnv, ...Object.fromEntries(k8sEnv.map((e) => [e.name, e.value])) },
  "the manifest's environment",
);

test('Kubernetes: every variable the manifest sets is a configuration variable of src/config.ts or a standard OTel one', () => {
  const names = configVariableNames();
  assert.ok(names.has('PORT') && names.has('DATA_DIR') && names.has('STORE_URL') && names.size > 30, 'schema read');
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  for (const { name } of k8sEnv) {
    if (names.has(name)) continue;
    // Read by the OpenTelemetry SDK itself; the README's configuration table documents the ones we rely on.
    assert.ok(name.startsWith('OTEL_') && readme.includes(`\`${name}\``), `${name} is a known variable`);
  }
  const secret = (container['env'] as Doc[]).find((e) => e['name'] === 'TWILIO_AUTH_TOKEN');
  assert.ok(
    isRecord(secret?.['valueFrom']) && isRecord(secret['valueFrom']['secretKeyRef']),
    'the token from a Secret',
  );
  // The commented multi-replica variable is real too.
  assert.ok(names.has('STORE_URL'));
});

test('Kubernetes: container ports are the defaults the Dockerfile exposes; probes hit /healthz and /readyz on the webhook port', async () => {
  assert.deepEqual(
    [...containerPorts.values()].sort((a, b) => a - b),
    exposed,
  );
  assert.equal(containerPorts.get('webhook'), k8sConfig.port);
  assert.equal(containerPorts.get('metrics'), k8sConfig.metricsPort);
  const probe = (name: string) => rec(rec(container[name], name)['httpGet'], `${name}.httpGet`);
  for (const [name, path] of [
    ['livenessProbe', '/healthz'],
    ['readinessProbe', '/readyz'],
  ] as const) {
    const p = probe(name);
    assert.equal(p['path'], path);
    assert.equal(containerPorts.get(String(p['port'])), k8sConfig.port, `${name} on the webhook port`);
    // The exporter really answers there.
    assert.ok(harness !== undefined);
    const origin = new URL(harness.webhookUrl).origin;
    assert.equal((await fetch(`${origin}${path}`)).status, 200, `${path} answers 200 on the webhook port`);
  }
});

test('Kubernetes: non-root, graceful stop above SHUTDOWN_TIMEOUT_MS, DATA_DIR on a claim, one replica with the embedded store', () => {
  const grace = Number(podSpec['terminationGracePeriodSeconds']);
  assert.ok(grace * 1000 > k8sConfig.shutdownTimeoutMs, `${grace} s > SHUTDOWN_TIMEOUT_MS`);
  const podSecurity = rec(podSpec['securityContext'], 'pod securityContext');
  assert.equal(podSecurity['runAsNonRoot'], true);
  assert.ok(Number(podSecurity['runAsUser']) > 0);
  const security = rec(container['securityContext'], 'container securityContext');
  assert.equal(security['allowPrivilegeEscalation'], false);
  const mounts = (container['volumeMounts'] as Doc[]).map((m) => ({ name: String(m['name']), path: m['mountPath'] }));
  const data = mounts.find((m) => m.path === k8sConfig.dataDir);
  assert.ok(data !== undefined, `DATA_DIR ${k8sConfig.dataDir} is mounted`);
  const claims = (rec(statefulSet['spec'], 'spec')['volumeClaimTemplates'] as Doc[]).map((c) =>
    String(rec(c['metadata'], 'metadata')['name']),
  );
  assert.ok(claims.includes(data.name), 'from a volume claim template');
  if (security['readOnlyRootFilesystem'] === true)
    assert.ok(
      mounts.some((m) => m.path === '/tmp'),
      '/tmp writable',
    );
  const replicas = Number(rec(statefulSet['spec'], 'spec')['replicas']);
  assert.ok(replicas === 1 || k8sConfig.store.kind === 'redis', 'several replicas only with a shared store');
  const image = String(container['image']);
  assert.equal(image.split(':').at(-1), pkg.version, 'the image tag is the package version');
  assert.deepEqual(container['args'], ['serve']);
});

test('Kubernetes: Services select the pods; the headless one is the StatefulSet service and lists each pod for scraping', () => {
  const podLabels = rec(
    rec(rec(rec(statefulSet['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['labels'],
    'labels',
  );
  const services = byKind('Service');
  assert.equal(services.length, 2);
  for (const s of services) {
    const spec = rec(s['spec'], 'service spec');
    for (const [k, v] of Object.entries(rec(spec['selector'], 'selector')))
      assert.equal(podLabels[k], v, 'selector matches the pods');
    for (const p of spec['ports'] as Doc[])
      assert.equal(containerPorts.get(String(p['targetPort'])), Number(p['port']), 'targets a named container port');
  }
  const headless = services.find((s) => rec(s['spec'], 'spec')['clusterIP'] === 'None');
  const name = String(rec(headless?.['metadata'], 'metadata')['name']);
  assert.equal(rec(statefulSet['spec'], 'spec')['serviceName'], name);
  assert.ok(
    (rec(headless?.['spec'], 'spec')['ports'] as Doc[]).some((p) => p['targetPort'] === 'metrics'),
    'the metrics port is on the headless service',
  );
  // ../../otel-collector.yaml's commented DNS discovery names this service.
  assert.match(readFileSync(join(REPO_ROOT, 'otel-collector.yaml'), 'utf8'), new RegExp(`${name}\\.`));
  const annotations = rec(
    rec(rec(rec(statefulSet['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['annotations'],
    'annotations',
  );
  assert.equal(annotations['prometheus.io/port'], String(k8sConfig.metricsPort));
  assert.equal(annotations['prometheus.io/path'], '/metrics');
});

test('the Dockerfile health check and the compose files agree on where the webhook listens', () => {
  const check = splitFlags(instructionsOf(runtime, 'HEALTHCHECK')[0]?.args ?? '').rest.replace(/^CMD\s+/, '');
  const argv = execForm(check) ?? [];
  const fallback = Number(/process\.env\.PORT\s*\|\|\s*(\d+)/.exec(argv.join(' '))?.[1]);
  assert.equal(fallback, exporterConfig.port);
  assert.ok(listening.get('exporter')?.has(fallback));
});
