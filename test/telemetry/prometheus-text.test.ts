// prometheus-text.ts writes /metrics instead of @opentelemetry/exporter-prometheus's serializer; it
// must write the same bytes. Each test collects once and serializes the same ResourceMetrics with both,
// including label values with quotes, backslashes and newlines, non-string attributes, odd names,
// non-finite values and the exporter's fallback; the last compares the metrics port's answer with the
// exporter's own request handler.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValueType, type Attributes } from '@opentelemetry/api';
import { PrometheusExporter, type PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { createMetricsServer } from '../../src/telemetry/metrics-server.js';
import { PrometheusText, librarySerializer } from '../../src/telemetry/prometheus-text.js';
import { createTelemetry, type Telemetry } from '../../src/telemetry/providers.js';

const TRICKY = [
  'plain',
  '',
  'say "hi"',
  'back\\slash',
  'two\nlines',
  'trailing\\',
  '\\n is not a newline',
  '"\\\n"',
  '\\"',
  'tab\there',
  'unicode: ü ☎ 𝄞',
  'curly {braces}, le="0.1"',
];

function telemetry(serviceName = 'prometheus-text-test'): Telemetry {
  return createTelemetry({ serviceName, otlpMetrics: undefined, onExportFailure: () => undefined });
}

/** The serializer inside the exporter createTelemetry builds (its options, not a copy of them). */
function exportersOwn(t: Telemetry): PrometheusSerializer {
  const own = (t.prometheus as unknown as { _serializer?: PrometheusSerializer })._serializer;
  assert.ok(own !== undefined, 'PrometheusExporter keeps its serializer in _serializer (check on upgrade)');
  return own;
}

async function collect(reader: PrometheusExporter): Promise<ResourceMetrics> {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  return resourceMetrics;
}

function assertSame(rm: ResourceMetrics, expected: string): string {
  const actual = new PrometheusText().serialize(rm);
  if (actual !== expected) {
    const a = actual.split('\n');
    const e = expected.split('\n');
    const i = a.findIndex((line, k) => line !== e[k]);
    assert.fail(`differs at line ${i + 1}:\n  fast:    ${a[i]}\n  library: ${e[i]}`);
  }
  return actual;
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('escaping of label values and help text, non-string attributes, names, units, types: same bytes as the library', async () => {
  const t = telemetry('svc "quoted" \\ and\nnewline');
  try {
    const m = t.meter;
    const counter = m.createCounter('tricky.requests-seen', { description: 'Help with a \\ and a\nnewline.' });
    TRICKY.forEach((v, i) => counter.add(i + 1, { value: v, 'http.status-code': String(200 + i) }));
    counter.add(1, { number: 42, float: 0.5, yes: true, list: ['a"b', 'c\\d'], numbers: [1, 2] });
    counter.add(3);
    m.createCounter('already_total', { unit: 'By' }).add(2, { k: 'v' });
    m.createCounter('no_help').add(1);
    const updown = m.createUpDownCounter('in_flight', { description: 'Up and down.', unit: '{call}' });
    updown.add(-5, { q: 'x"y' });
    const histogram = m.createHistogram('latency', {
      description: 'Seconds.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0, 0.005, 0.1, 1, 2.5, 1e21] },
    });
    for (const [i, v] of TRICKY.entries()) histogram.record(i * 0.37, { codec: v });
    histogram.record(3e21, { codec: 'over every bound' });
    histogram.record(0.1);
    histogram.record(0.05, { le: 'a label named le' });
    m.createHistogram('default_buckets').record(7, { a: '1' });
    m.createHistogram('unused', { description: 'Nothing recorded.' });
    const gauge = m.createObservableGauge('odd_values', { description: 'Non-finite and tiny values.' });
    gauge.addCallback((r) => {
      r.observe(Infinity, { v: 'inf' });
      r.observe(-Infinity, { v: '-inf' });
      r.observe(NaN, { v: 'nan' });
      r.observe(1e-7, { v: 'tiny' });
      r.observe(-0, { v: 'negative zero' });
      r.observe(123456789012345680000, { v: 'huge' });
    });
    m.createGauge('sync_gauge').record(2.5, { 'x.y': 'z' });

    const rm = await collect(t.prometheus);
    const text = assertSame(rm, exportersOwn(t).serialize(rm));
    assert.equal(text, librarySerializer().serialize(rm));
    // Not vacuous: the escapes and the odd cases are in the text compared.
    for (const line of [
      'tricky_requests_seen_total{value="say \\"hi\\"",http_status_code="202"} 3',
      'tricky_requests_seen_total{value="back\\\\slash",http_status_code="203"} 4',
      'tricky_requests_seen_total{value="two\\nlines",http_status_code="204"} 5',
      'tricky_requests_seen_total{value="\\"\\\\\\n\\"",http_status_code="207"} 8',
      'tricky_requests_seen_total{number="42",float="0.5",yes="true",list="[\\"a\\\\\\"b\\",\\"c\\\\\\\\d\\"]",numbers="[1,2]"} 1',
      '# HELP tricky_requests_seen_total Help with a \\\\ and a\\nnewline.',
      'latency_bucket{codec="over every bound",le="+Inf"} 1',
      'latency_bucket{le="0.1"} 1',
      'latency_bucket{le="a label named le",le="0.1"} 1',
      'odd_values{v="inf"} +Inf',
      'odd_values{v="-inf"} -Inf',
      'odd_values{v="nan"} NaN',
      'already_total{k="v"} 2',
      '# TYPE in_flight gauge',
      '# HELP no_help_total description missing',
    ]) {
      assert.ok(text.split('\n').includes(line), `expected line: ${line}`);
    }
    assert.match(text, /^target_info\{service_name="svc \\"quoted\\" \\\\ and\\nnewline",/m);
  } finally {
    await t.shutdown();
  }
});

test('random label values over an alphabet of escapes: same bytes as the library', async () => {
  const t = telemetry();
  try {
    const next = rng(20250314);
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\r', '\t', '{', '}', ',', '=', 'é', '☎', '𝄞'];
    const word = () => Array.from({ length: Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * 16)]).join('');
    const counter = t.meter.createCounter('random_counter');
    const histogram = t.meter.createHistogram('random_hist', { advice: { explicitBucketBoundaries: [0.5, 1, 5] } });
    for (let i = 0; i < 500; i++) {
      const attrs: Attributes = { a: word(), b: word() };
      if (next() < 0.3) attrs['c'] = word();
      counter.add(Math.floor(next() * 100), attrs);
      histogram.record(next() * 10, attrs);
    }
    const rm = await collect(t.prometheus);
    assertSame(rm, exportersOwn(t).serialize(rm));
  } finally {
    await t.shutdown();
  }
});

test('data the SDK does not make today (an Infinity bound, no sum, names with nothing valid left): same bytes as the library', () => {
  const time: [number, number] = [1, 0];
  const histogram = (name: string, boundaries: number[], counts: number[], sum?: number): MetricData => ({
    descriptor: { name, description: '', unit: '', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [
      {
        startTime: time,
        endTime: time,
        attributes: { k: 'v"' },
        value: {
          buckets: { boundaries, counts },
          count: counts.reduce((a, b) => a + b, 0),
          ...(sum === undefined ? {} : { sum }),
        },
      },
    ],
  });
  const counter = (name: string): MetricData => ({
    descriptor: { name, description: 'd', unit: '', valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: [{ startTime: time, endTime: time, attributes: {}, value: 1 }],
  });
  const rm: ResourceMetrics = {
    resource: resourceFromAttributes({}),
    scopeMetrics: [
      {
        scope: { name: 'hand-made' },
        metrics: [
          histogram('infinity_bound', [1, Infinity], [1, 2, 3], 4),
          histogram('no_sum', [-Infinity, 0, 1], [1, 0, 2, 5]),
          counter(''),
          counter('...'),
          counter('_'),
          counter('9lives'),
          counter('a..b--c'),
        ],
      },
      { scope: { name: 'second', version: '1.0' }, metrics: [counter('second_scope')] },
    ],
  };
  const text = assertSame(rm, librarySerializer().serialize(rm));
  assert.ok(text.includes('infinity_bound_bucket{k="v\\"",le="+Inf"} 3\n# HELP'), text);
  assert.ok(text.includes('no_sum_bucket{k="v\\"",le="-Infinity"} 1\n'), text);
  assert.ok(!text.includes('no_sum_sum'));
  assert.ok(text.includes('\n_9lives_total 1\n') && text.includes('\na_b_c_total 1\n'), text);
});

test('no instruments: target_info and "# no registered metrics", as the library writes', async () => {
  const t = telemetry();
  try {
    const rm = await collect(t.prometheus);
    const text = assertSame(rm, exportersOwn(t).serialize(rm));
    assert.ok(text.endsWith('\n# no registered metrics'));
  } finally {
    await t.shutdown();
  }
});

test('an exponential histogram (not written by the fast path) goes to the library serializer whole', async () => {
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const provider = new MeterProvider({
    readers: [prometheus],
    views: [{ instrumentName: 'expo', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  try {
    const meter = provider.getMeter('expo-test');
    meter.createHistogram('expo').record(3, { a: 'b' });
    meter.createCounter('plain').add(1, { a: 'say "hi"' });
    const rm = await collect(prometheus);
    assertSame(rm, librarySerializer().serialize(rm));
  } finally {
    await provider.shutdown();
  }
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test("the metrics port answers what the exporter's own request handler answers (status, content type, body)", async () => {
  const t = telemetry();
  const ours = createMetricsServer(t.prometheus);
  const theirs = createServer((req, res) => t.prometheus.getMetricsRequestHandler(req, res));
  try {
    const c = t.meter.createCounter('scraped', { description: 'A "quoted"\nhelp.' });
    for (const v of TRICKY) c.add(1, { v });
    t.meter.createHistogram('scraped_seconds').record(0.3, { v: 'x\\y' });
    const [a, b] = await Promise.all([listen(ours), listen(theirs)]);
    const [ra, rb] = await Promise.all([
      fetch(`http://127.0.0.1:${a}/metrics`),
      fetch(`http://127.0.0.1:${b}/metrics`),
    ]);
    assert.equal(ra.status, rb.status);
    assert.equal(ra.headers.get('content-type'), rb.headers.get('content-type'));
    const [ta, tb] = await Promise.all([ra.text(), rb.text()]);
    assert.ok(tb.includes('scraped_total{v="say \\"hi\\""} 1'));
    assert.equal(ta, tb);
  } finally {
    await Promise.all([ours, theirs].map((s) => new Promise((resolve) => s.close(resolve))));
    await t.shutdown();
  }
});
