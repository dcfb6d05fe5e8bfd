// Proves the test OTLP receiver against the real OTel JS exporters: whatever the wire encoding
// (http/protobuf or http/json), the decoded model must be the same, and must say exactly what the
// SDK recorded. If these pass, other tests can trust the receiver as they would trust a collector.
import { test, describe, beforeAll, afterAll } from '@jest/globals';
import assert from '../support/assert.js';
import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, ValueType, trace } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IdGenerator, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import type { OtlpEncoding, OtlpMetricPoint, OtlpReceiver, OtlpSpan } from '../support/otlp-receiver.js';

const ENCODINGS: readonly OtlpEncoding[] = ['protobuf', 'json'];
const CONTENT_TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };
const RESOURCE = { 'service.name': 'vie-receiver-test', 'service.version': '1.2.3' };
const SCOPE = { name: 'receiver-test', version: '0.0.1' };

function metricExporter(encoding: OtlpEncoding, receiver: OtlpReceiver): PushMetricExporter {
  const url = `${receiver.url}/v1/metrics`;
  return encoding === 'protobuf' ? new ProtoMetricExporter({ url }) : new JsonMetricExporter({ url });
}

function traceExporter(encoding: OtlpEncoding, receiver: OtlpReceiver): SpanExporter {
  const url = `${receiver.url}/v1/traces`;
  return encoding === 'protobuf' ? new ProtoTraceExporter({ url }) : new JsonTraceExporter({ url });
}

function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Stable order: exports group points by instrument, but tests should not depend on that. */
function byNameAndAttributes<T extends { name: string; attributes: object }>(a: T, b: T): number {
  const key = (x: T): string => `${x.name} ${JSON.stringify(x.attributes)}`;
  return key(a).localeCompare(key(b));
}

// ---------------------------------------------------------------------------------------------
// (a) metrics
// ---------------------------------------------------------------------------------------------

interface MetricsRun {
  points: OtlpMetricPoint[];
  contentTypes: string[];
  before: bigint;
  after: bigint;
}

/** Records the same measurements through a real MeterProvider and exporter of the given encoding. */
async function exportMetrics(encoding: OtlpEncoding): Promise<MetricsRun> {
  const receiver = await startOtlpReceiver();
  // A reader whose timer never fires in a test: only forceFlush exports.
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter(encoding, receiver),
    exportIntervalMillis: 3_600_000,
  });
  const provider = new MeterProvider({ resource: resourceFromAttributes(RESOURCE), readers: [reader] });
  try {
    const before = nowNanos();
    const meter = provider.getMeter(SCOPE.name, SCOPE.version);
    const calls = meter.createCounter('vie.test.calls', {
      description: 'Calls seen',
      unit: '{call}',
      valueType: ValueType.INT,
    });
    calls.add(2, { direction: 'inbound' });
    calls.add(3, { direction: 'inbound' });
    calls.add(1, { direction: 'outbound' });
    // A negative int exercises sfixed64 two's complement in protobuf and a signed string/number in JSON.
    meter.createUpDownCounter('vie.test.inflight', { valueType: ValueType.INT }).add(-3);
    meter.createGauge('vie.test.jitter', { unit: 's' }).record(0.25, { leg: 'caller' });
    // Binary-exact values, so the sum compares exactly.
    const latency = meter.createHistogram('vie.test.latency', {
      description: 'Setup latency',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.125, 0.5, 1] },
    });
    for (const seconds of [0.0625, 0.25, 0.375, 0.75, 2.5]) latency.record(seconds, { codec: 'opus' });

    await provider.forceFlush();
    await receiver.waitFor(() => receiver.metricPoints().length >= 5);
    return {
      points: receiver.metricPoints().sort(byNameAndAttributes),
      contentTypes: receiver.requests().map((r) => r.contentType),
      before,
      after: nowNanos(),
    };
  } finally {
    await provider.shutdown(); // shutdown exports once more; the receiver's data was already taken
    await receiver.close();
  }
}

function withoutTimes(point: OtlpMetricPoint): Omit<OtlpMetricPoint, 'startTimeUnixNano' | 'timeUnixNano'> {
  const { startTimeUnixNano: _start, timeUnixNano: _time, ...rest } = point;
  return rest;
}

const scopeAndResource = { resource: RESOURCE, scope: SCOPE };

const EXPECTED_POINTS: Omit<OtlpMetricPoint, 'startTimeUnixNano' | 'timeUnixNano'>[] = [
  {
    name: 'vie.test.calls',
    unit: '{call}',
    description: 'Calls seen',
    kind: 'sum',
    monotonic: true,
    temporality: 'cumulative',
    attributes: { direction: 'inbound' },
    value: 5,
    valueType: 'int',
    ...scopeAndResource,
  },
  {
    name: 'vie.test.calls',
    unit: '{call}',
    description: 'Calls seen',
    kind: 'sum',
    monotonic: true,
    temporality: 'cumulative',
    attributes: { direction: 'outbound' },
    value: 1,
    valueType: 'int',
    ...scopeAndResource,
  },
  {
    name: 'vie.test.inflight',
    unit: '',
    description: '',
    kind: 'sum',
    monotonic: false,
    temporality: 'cumulative',
    attributes: {},
    value: -3,
    valueType: 'int',
    ...scopeAndResource,
  },
  {
    name: 'vie.test.jitter',
    unit: 's',
    description: '',
    kind: 'gauge',
    attributes: { leg: 'caller' },
    value: 0.25,
    valueType: 'double',
    ...scopeAndResource,
  },
  {
    name: 'vie.test.latency',
    unit: 's',
    description: 'Setup latency',
    kind: 'histogram',
    temporality: 'cumulative',
    attributes: { codec: 'opus' },
    count: 5,
    sum: 3.9375,
    min: 0.0625,
    max: 2.5,
    bucketCounts: [1, 2, 1, 1],
    explicitBounds: [0.125, 0.5, 1],
    ...scopeAndResource,
  },
];

describe('OTLP receiver: metrics from the real exporters', () => {
  const runs = new Map<OtlpEncoding, MetricsRun>();

  beforeAll(async () => {
    for (const encoding of ENCODINGS) runs.set(encoding, await exportMetrics(encoding));
  });

  for (const encoding of ENCODINGS) {
    test(`${encoding}: counter, up-down counter, gauge and histogram decode to what was recorded`, () => {
      const run = runs.get(encoding);
      assert.ok(run);
      assert.ok(
        run.contentTypes.length > 0 && run.contentTypes.every((t) => t.startsWith(CONTENT_TYPES[encoding])),
        `content types: ${run.contentTypes.join(', ')}`,
      );
      assert.deepEqual(run.points.map(withoutTimes), EXPECTED_POINTS);
      // The SDK's clock (performance.timeOrigin + now()) may drift from Date.now(); a second of slack
      // still proves the times are this run's nanoseconds, not milliseconds or garbage.
      const slack = 1_000_000_000n;
      for (const point of run.points) {
        assert.ok(
          point.startTimeUnixNano >= run.before - slack,
          `${point.name} starts before the test: ${point.startTimeUnixNano}`,
        );
        assert.ok(
          point.timeUnixNano >= point.startTimeUnixNano && point.timeUnixNano <= run.after + slack,
          `${point.name} time ${point.timeUnixNano}`,
        );
      }
    });
  }

  test('both encodings decode to the same points', () => {
    assert.deepEqual(runs.get('protobuf')?.points.map(withoutTimes), runs.get('json')?.points.map(withoutTimes));
  });
});

// ---------------------------------------------------------------------------------------------
// (b) traces
// ---------------------------------------------------------------------------------------------

const TRACE_ID = '00f067aa0ba902b70af7651916cd43dd'; // leading zero byte: hex conversion must keep it
const SPAN_IDS = ['0af7651916cd43dd', 'ff8040201008a0b0'];

/** Same ids for both encodings, so whole spans compare equal. */
function fixedIds(): IdGenerator {
  let next = 0;
  return {
    generateTraceId: () => TRACE_ID,
    generateSpanId: () => SPAN_IDS[next++] ?? assert.fail('more spans than fixed ids'),
  };
}

const SEC = 1_750_000_000;
const at = (seconds: number, nanos: number): HrTime => [SEC + seconds, nanos];
const nanosAt = (seconds: number, nanos: number): bigint => BigInt(SEC + seconds) * 1_000_000_000n + BigInt(nanos);

interface TracesRun {
  spans: OtlpSpan[];
  contentTypes: string[];
  ids: { traceId: string; rootSpanId: string; childSpanId: string };
}

async function exportTraces(encoding: OtlpEncoding): Promise<TracesRun> {
  const receiver = await startOtlpReceiver();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(RESOURCE),
    idGenerator: fixedIds(),
    spanProcessors: [new SimpleSpanProcessor(traceExporter(encoding, receiver))],
  });
  try {
    const tracer = provider.getTracer(SCOPE.name, SCOPE.version);
    const root = tracer.startSpan('call', {
      kind: SpanKind.SERVER,
      startTime: at(0, 123_456_789),
      attributes: {
        'call.sid': 'CA0123456789abcdef',
        'call.legs': 2,
        'call.offset': -42,
        'call.mos': 4.25,
        'call.answered': true,
        'call.codecs': ['opus', 'pcmu'],
      },
    });
    root.addEvent('ringing', { 'sip.response_code': 180 }, at(0, 500_000_000));
    root.addEvent('answered', {}, at(1, 1));
    const child = tracer.startSpan(
      'leg',
      { kind: SpanKind.CLIENT, startTime: at(0, 600_000_000), links: [{ context: root.spanContext() }] },
      trace.setSpan(ROOT_CONTEXT, root),
    );
    child.end(at(1, 900_000_000));
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'callee busy' });
    root.end(at(2, 0));

    await provider.forceFlush();
    await receiver.waitFor(() => receiver.spans().length >= 2);
    return {
      spans: receiver.spans().sort(byNameAndAttributes),
      contentTypes: receiver.requests().map((r) => r.contentType),
      ids: {
        traceId: root.spanContext().traceId,
        rootSpanId: root.spanContext().spanId,
        childSpanId: child.spanContext().spanId,
      },
    };
  } finally {
    await provider.shutdown();
    await receiver.close();
  }
}

const EXPECTED_SPANS: OtlpSpan[] = [
  {
    traceId: TRACE_ID,
    spanId: SPAN_IDS[0] ?? '',
    parentSpanId: undefined,
    name: 'call',
    kind: 2, // OTLP SPAN_KIND_SERVER: the API's SpanKind.SERVER (1) plus one
    startTimeUnixNano: nanosAt(0, 123_456_789),
    endTimeUnixNano: nanosAt(2, 0),
    attributes: {
      'call.sid': 'CA0123456789abcdef',
      'call.legs': 2,
      'call.offset': -42,
      'call.mos': 4.25,
      'call.answered': true,
      'call.codecs': ['opus', 'pcmu'],
    },
    events: [
      { name: 'ringing', timeUnixNano: nanosAt(0, 500_000_000), attributes: { 'sip.response_code': 180 } },
      { name: 'answered', timeUnixNano: nanosAt(1, 1), attributes: {} },
    ],
    status: { code: 2, message: 'callee busy' }, // STATUS_CODE_ERROR
    links: [],
    resource: RESOURCE,
    scope: SCOPE,
  },
  {
    traceId: TRACE_ID,
    spanId: SPAN_IDS[1] ?? '',
    parentSpanId: SPAN_IDS[0],
    name: 'leg',
    kind: 3, // SPAN_KIND_CLIENT
    startTimeUnixNano: nanosAt(0, 600_000_000),
    endTimeUnixNano: nanosAt(1, 900_000_000),
    attributes: {},
    events: [],
    status: { code: 0, message: undefined },
    links: [{ traceId: TRACE_ID, spanId: SPAN_IDS[0] ?? '', attributes: {} }],
    resource: RESOURCE,
    scope: SCOPE,
  },
];

describe('OTLP receiver: traces from the real exporters', () => {
  const runs = new Map<OtlpEncoding, TracesRun>();

  beforeAll(async () => {
    for (const encoding of ENCODINGS) runs.set(encoding, await exportTraces(encoding));
  });

  for (const encoding of ENCODINGS) {
    test(`${encoding}: spans, attributes, events, parent, link and status decode to what was recorded`, () => {
      const run = runs.get(encoding);
      assert.ok(run);
      assert.ok(
        run.contentTypes.length > 0 && run.contentTypes.every((t) => t.startsWith(CONTENT_TYPES[encoding])),
        `content types: ${run.contentTypes.join(', ')}`,
      );
      assert.deepEqual(run.spans, EXPECTED_SPANS);
    });

    test(`${encoding}: ids are the ones span.spanContext() reported`, () => {
      const run = runs.get(encoding);
      assert.ok(run);
      const [root, child] = run.spans;
      assert.equal(root?.traceId, run.ids.traceId);
      assert.equal(root?.spanId, run.ids.rootSpanId);
      assert.equal(child?.traceId, run.ids.traceId);
      assert.equal(child?.spanId, run.ids.childSpanId);
      assert.equal(child?.parentSpanId, run.ids.rootSpanId);
    });
  }

  test('both encodings decode to the same spans', () => {
    assert.deepEqual(runs.get('protobuf')?.spans, runs.get('json')?.spans);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) retries
// ---------------------------------------------------------------------------------------------

describe('OTLP receiver: failFirst', () => {
  test('the first request gets 503, the trace exporter backs off and retries, the span arrives once', async () => {
    const receiver = await startOtlpReceiver({ failFirst: 1 });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes(RESOURCE),
      spanProcessors: [new SimpleSpanProcessor(traceExporter('protobuf', receiver))],
    });
    try {
      provider.getTracer(SCOPE.name).startSpan('retried').end();
      await provider.forceFlush();
      await receiver.waitFor(() => receiver.spans().length >= 1);
      assert.deepEqual(
        receiver.requests().map((r) => r.status),
        [503, 200],
      );
      assert.deepEqual(
        receiver.spans().map((s) => s.name),
        ['retried'],
      );
      assert.deepEqual(receiver.errors(), []);
    } finally {
      await provider.shutdown();
      await receiver.close();
    }
  });

  test('with retryAfterSeconds: 0 the metric exporter retries at once', async () => {
    const receiver = await startOtlpReceiver({ failFirst: 1, retryAfterSeconds: 0 });
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporter('json', receiver),
      exportIntervalMillis: 3_600_000,
    });
    const provider = new MeterProvider({ resource: resourceFromAttributes(RESOURCE), readers: [reader] });
    try {
      provider.getMeter(SCOPE.name).createCounter('vie.test.retried').add(1);
      await provider.forceFlush();
      await receiver.waitFor(() => receiver.metricPoints().length >= 1);
      assert.deepEqual(
        receiver.requests().map((r) => r.status),
        [503, 200],
      );
      assert.deepEqual(
        receiver.metricPoints().map((p) => [p.name, p.value]),
        [['vie.test.retried', 1]],
      );
    } finally {
      await provider.shutdown();
      await receiver.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (d) hand-made requests: gzip, OTLP/JSON edge cases, refusals
// ---------------------------------------------------------------------------------------------

async function post(
  receiver: OtlpReceiver,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${receiver.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

/** OTLP/JSON as the spec allows it: upper-case hex ids, int64 as strings and as numbers, enums as numbers. */
const HAND_MADE_TRACES = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'by-hand' } }] },
      scopeSpans: [
        {
          scope: { name: 'manual', version: '' },
          spans: [
            {
              traceId: '5B8EFFF798038103D269B633813FC60C',
              spanId: 'EEE19B7EC3C1B174',
              parentSpanId: '',
              name: 'gzipped',
              kind: 2,
              startTimeUnixNano: '1544712660000000000',
              endTimeUnixNano: 1544712661000000000, // exactly representable as a double
              attributes: [
                { key: 'big', value: { intValue: '9007199254740993' } },
                { key: 'small', value: { intValue: 7 } },
                { key: 'negative', value: { intValue: '-5' } },
                {
                  key: 'nested',
                  value: { kvlistValue: { values: [{ key: 'k', value: { doubleValue: 'Infinity' } }] } },
                },
              ],
              events: [{ timeUnixNano: '1544712660500000000', name: 'mid' }],
              status: { code: 2, message: 'boom' },
            },
          ],
        },
      ],
    },
  ],
};

describe('OTLP receiver: hand-made requests', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  test('a gzip-compressed OTLP/JSON body decodes, with ids lowercased and int64 as number or bigint', async () => {
    receiver.reset();
    const body = gzipSync(Buffer.from(JSON.stringify(HAND_MADE_TRACES)));
    const res = await post(receiver, '/v1/traces', body, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text), {});
    assert.deepEqual(receiver.spans(), [
      {
        traceId: '5b8efff798038103d269b633813fc60c',
        spanId: 'eee19b7ec3c1b174',
        parentSpanId: undefined,
        name: 'gzipped',
        kind: 2,
        startTimeUnixNano: 1544712660000000000n,
        endTimeUnixNano: 1544712661000000000n,
        attributes: { big: 9007199254740993n, small: 7, negative: -5, nested: { k: Number.POSITIVE_INFINITY } },
        events: [{ name: 'mid', timeUnixNano: 1544712660500000000n, attributes: {} }],
        status: { code: 2, message: 'boom' },
        links: [],
        resource: { 'service.name': 'by-hand' },
        scope: { name: 'manual', version: undefined },
      },
    ]);
    const [request] = receiver.requests();
    assert.equal(request?.encoding, 'json');
    assert.equal(request?.headers['content-encoding'], 'gzip');
  });

  test('an unknown content type gets 415 and is recorded as an error', async () => {
    receiver.reset();
    const res = await post(receiver, '/v1/traces', JSON.stringify(HAND_MADE_TRACES), { 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.deepEqual(
      receiver.errors().map((e) => [e.path, e.status]),
      [['/v1/traces', 415]],
    );
    assert.deepEqual(receiver.requests(), []);
    assert.deepEqual(receiver.spans(), []);
  });

  test('undecodable bodies get 400 and are recorded as errors that say what was wrong', async () => {
    receiver.reset();
    const truncated = await post(receiver, '/v1/metrics', new Uint8Array([0x0a, 0x05, 0x01]), {
      'content-type': 'application/x-protobuf',
    });
    const badId = structuredClone(HAND_MADE_TRACES);
    const span = badId.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    assert.ok(span);
    span.traceId = 'not-hex';
    const wrongId = await post(receiver, '/v1/traces', JSON.stringify(badId), { 'content-type': 'application/json' });
    const notGzip = await post(receiver, '/v1/traces', '{}', {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    const notJson = await post(receiver, '/v1/traces', '{', { 'content-type': 'application/json; charset=utf-8' });
    assert.deepEqual([truncated.status, wrongId.status, notGzip.status, notJson.status], [400, 400, 400, 400]);
    const messages = receiver.errors().map((e) => e.message);
    assert.match(messages[0] ?? '', /truncated/);
    assert.match(messages[1] ?? '', /spans\[0\]\.traceId: expected 32 hex digits/);
    assert.match(messages[2] ?? '', /not valid gzip/);
    assert.match(messages[3] ?? '', /not JSON/);
    assert.deepEqual(receiver.spans(), []);
    assert.deepEqual(receiver.metricPoints(), []);
  });

  test('unknown paths get 404', async () => {
    receiver.reset();
    const res = await post(receiver, '/v1/logs', '{}', { 'content-type': 'application/json' });
    assert.equal(res.status, 404);
    assert.equal(receiver.errors()[0]?.status, 404);
  });

  test('waitFor rejects with what was received when the condition stays false', async () => {
    receiver.reset();
    await assert.rejects(
      receiver.waitFor(() => receiver.spans().length > 0, 50),
      /still false after 50 ms; received 0 span\(s\)/,
    );
  });
});

test('status: a configured error status is answered and the data is not kept', async () => {
  const receiver = await startOtlpReceiver({ status: 400 });
  try {
    const res = await post(receiver, '/v1/traces', JSON.stringify(HAND_MADE_TRACES), {
      'content-type': 'application/json',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(receiver.spans(), []);
    assert.deepEqual(
      receiver.requests().map((r) => r.status),
      [400],
    );
  } finally {
    await receiver.close();
  }
});
