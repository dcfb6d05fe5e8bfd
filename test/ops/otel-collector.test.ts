// otel-collector.yaml hangs together and fits the exporter's defaults: every component a pipeline
// names is defined, memory_limiter comes first and batch is there, the scrape target is the
// exporter's METRICS_PORT, and the OTLP/HTTP receiver listens where the exporter sends by default.
// (No collector binary runs here; the structure is what can be checked.)
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { parse } from 'yaml';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../src/config.js';
import { createOtlpSpanExporter } from '../../src/telemetry/otlp-traces.js';
import { JOB } from '../support/ops-queries.js';

type Doc = Record<string, unknown>;
const isRecord = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const rec = (v: unknown, what: string): Doc => {
  assert.ok(isRecord(v), `${what} is a mapping`);
  return v;
};
const list = (v: unknown, what: string): string[] => {
  assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${what} is a list of names`);
  return v;
};
const portOf = (endpoint: unknown): number => Number(/:(\d+)$/.exec(String(endpoint))?.[1]);

const doc = rec(parse(readFileSync('otel-collector.yaml', 'utf8')), 'otel-collector.yaml');
const service = rec(doc['service'], 'service');
const pipelines = rec(service['pipelines'], 'service.pipelines');
const defaults = (() => {
  const r = loadConfig({});
  assert.ok(r.ok, 'defaults load');
  return r.config;
})();

test('there are traces and metrics pipelines', () => {
  assert.ok(isRecord(pipelines['traces']), 'traces pipeline');
  assert.ok(isRecord(pipelines['metrics']), 'metrics pipeline');
});

test('every component a pipeline or the service names is defined', () => {
  const sections = { receivers: 'receivers', processors: 'processors', exporters: 'exporters' } as const;
  for (const [name, raw] of Object.entries(pipelines)) {
    const p = rec(raw, `pipeline ${name}`);
    for (const [key, section] of Object.entries(sections)) {
      const ids = list(p[key], `${name}.${key}`);
      assert.ok(ids.length > 0 || key === 'processors', `${name} has ${key}`);
      const defined = rec(doc[section], section);
      for (const id of ids) assert.ok(id in defined, `${name}.${key} names ${id}, defined under ${section}`);
    }
  }
  const extensions = isRecord(doc['extensions']) ? doc['extensions'] : {};
  for (const id of list(service['extensions'] ?? [], 'service.extensions'))
    assert.ok(id in extensions, `extension ${id} defined`);
});

test('memory_limiter is first in every pipeline and batch is present', () => {
  for (const [name, raw] of Object.entries(pipelines)) {
    const processors = list(rec(raw, name)['processors'], `${name}.processors`);
    assert.equal(processors[0], 'memory_limiter', `${name}: memory_limiter first`);
    assert.ok(processors.includes('batch'), `${name}: batch present`);
  }
});

test('traces go from the OTLP receiver to an OTLP tracing backend; metrics to Prometheus', () => {
  const traces = rec(pipelines['traces'], 'traces');
  assert.ok(list(traces['receivers'], 'traces.receivers').includes('otlp'));
  assert.ok(list(traces['exporters'], 'traces.exporters').some((id) => id === 'otlp' || id.startsWith('otlp/')));
  const metrics = rec(pipelines['metrics'], 'metrics');
  const receivers = list(metrics['receivers'], 'metrics.receivers');
  assert.ok(receivers.includes('otlp') && receivers.includes('prometheus'), 'pushed and scraped metrics');
  assert.ok(list(metrics['exporters'], 'metrics.exporters').some((id) => /^prometheus(remotewrite)?(\/|$)/.test(id)));
});

test("the prometheus receiver scrapes the exporter's /metrics on its default METRICS_PORT as job voice-insights-exporter", () => {
  const receivers = rec(doc['receivers'], 'receivers');
  const config = rec(rec(receivers['prometheus'], 'prometheus receiver')['config'], 'prometheus config');
  const scrape = config['scrape_configs'];
  assert.ok(Array.isArray(scrape) && scrape.length > 0, 'scrape_configs');
  const job = rec(scrape[0], 'scrape config');
  assert.equal(job['job_name'], JOB);
  assert.equal(job['metrics_path'] ?? '/metrics', '/metrics');
  const targets = (job['static_configs'] as unknown[]).flatMap((s) =>
    list(rec(s, 'static_config')['targets'], 'targets'),
  );
  assert.ok(targets.length > 0);
  for (const t of targets)
    assert.equal(portOf(t), defaults.metricsPort, `${t} is on METRICS_PORT ${defaults.metricsPort}`);
});

// The exporter speaks OTLP/HTTP only, to http://localhost:4318 unless OTEL_EXPORTER_OTLP_* say
// otherwise (the OTel exporter packages' default). Rather than restate that number, send one span with
// the exporter's own span exporter and default settings and see which port it arrives on.
async function defaultOtlpHttpPort(port: number): Promise<{ arrived: boolean; path: string }> {
  for (const v of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) delete process.env[v];
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  server.listen(port, '127.0.0.1');
  const failed = await Promise.race([
    once(server, 'listening').then(() => undefined),
    once(server, 'error').then(([err]) => err as Error),
  ]);
  if (failed !== undefined)
    throw new Error(`cannot listen on 127.0.0.1:${port} (${failed.message}); is a collector running here?`);
  try {
    assert.ok(
      defaults.traces !== undefined && defaults.traces.protocol.startsWith('http/'),
      'traces default to OTLP/HTTP',
    );
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(createOtlpSpanExporter(defaults.traces.protocol))],
    });
    provider.getTracer('otel-collector-test').startSpan('probe').end();
    await provider.forceFlush();
    await provider.shutdown();
    return { arrived: requests.length > 0, path: requests[0]?.url ?? '' };
  } finally {
    server.close();
  }
}

test('the OTLP receiver listens for HTTP on the port the exporter sends to by default, gRPC on 4317', async () => {
  const protocols = rec(
    rec(rec(doc['receivers'], 'receivers')['otlp'], 'otlp receiver')['protocols'],
    'otlp protocols',
  );
  const httpPort = portOf(rec(protocols['http'], 'otlp http')['endpoint']);
  const grpcPort = portOf(rec(protocols['grpc'], 'otlp grpc')['endpoint']);
  const probe = await defaultOtlpHttpPort(httpPort);
  assert.ok(probe.arrived, `the exporter's default OTLP export reached 127.0.0.1:${httpPort}`);
  assert.equal(probe.path, '/v1/traces');
  assert.equal(httpPort, 4318);
  // The OTLP/gRPC default (opentelemetry-proto's spec); the exporter itself never uses gRPC.
  assert.equal(grpcPort, 4317);
});
