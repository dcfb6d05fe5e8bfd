// Call traces end to end over real HTTP: signed webhooks into the exporter, OTLP/HTTP out to our own
// receiver, which decodes protobuf and JSON into one model. Everything asserted here is what a
// tracing backend would store.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../src/clock.js';
import type { Env } from '../../src/config.js';
import { ACCOUNT_SID, sdkEvent } from '../support/events.js';
import { startExporter, type Harness } from '../support/harness.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type OtlpReceiverOptions,
  type OtlpSpan,
} from '../support/otlp-receiver.js';
import { sampleValue } from '../support/prom.js';
import { CARRIER_CALL_PII, T0, carrierCall, spansJson, type ScriptedCall } from '../support/span-tree.js';

const PROTOCOLS = ['http/protobuf', 'http/json'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const ns = (ms: number): bigint => BigInt(ms) * 1_000_000n;

interface Rig {
  h: Harness;
  receiver: OtlpReceiver;
  clock: ManualClock;
}

/** Receiver first, then an exporter pointed at it; always torn down, whatever the test does. */
async function withExporter(
  protocol: Protocol,
  env: Env,
  body: (rig: Rig) => Promise<void>,
  receiverOpts: OtlpReceiverOptions = {},
): Promise<void> {
  const receiver = await startOtlpReceiver(receiverOpts);
  // The OTLP exporter reads its endpoint from the standard variable when it is constructed.
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${receiver.url}/v1/traces`;
  const clock = new ManualClock(T0 + 10 * 60_000);
  let h: Harness | undefined;
  try {
    h = await startExporter(
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol, ...env },
      { clock },
    );
    await body({ h, receiver, clock });
  } finally {
    await h?.stop();
    await receiver.close();
  }
}

async function deliver(h: Harness, call: ScriptedCall): Promise<void> {
  for (const batch of call.batches) {
    const res = await h.post(batch);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, { accepted: batch.length, duplicate: 0, invalid: 0, unknown_type: 0 });
  }
}

async function exported(rig: Rig, count: number): Promise<OtlpSpan[]> {
  await rig.h.app.traces.flush(15_000);
  await rig.receiver.waitFor(() => rig.receiver.spans().length >= count, 15_000);
  return rig.receiver.spans();
}

function rootOf(spans: readonly OtlpSpan[]): OtlpSpan {
  const roots = spans.filter((s) => s.parentSpanId === undefined);
  assert.equal(roots.length, 1, `exactly one root span, got ${roots.map((s) => s.name).join(', ')}`);
  const [root] = roots;
  assert.ok(root);
  return root;
}

for (const protocol of PROTOCOLS) {
  describe(`call traces over OTLP ${protocol}`, () => {
    test('a realistic call is exactly one trace, id = CallSid hex, one root span carrying the call events and summary', async () => {
      await withExporter(protocol, {}, async (rig) => {
        const call = carrierCall(`otlp-realistic-${protocol}`);
        await deliver(rig.h, call);
        const spans = await exported(rig, 1);

        assert.deepEqual(
          [...new Set(spans.map((s) => s.traceId))],
          [call.sid.slice(2).toLowerCase()],
          'one trace, id = CallSid hex',
        );
        assert.equal(spans.length, 1, 'no span but the root');
        const root = rootOf(spans);
        assert.equal(root.name, 'twilio.voice.call');
        assert.match(root.spanId, /^[0-9a-f]{16}$/);
        assert.equal(root.kind, 1, 'internal');
        assert.equal(root.status.code, 0, 'unset for a completed call');
        assert.equal(root.startTimeUnixNano, ns(call.start), 'summary start_time');
        assert.equal(root.endTimeUnixNano, ns(call.end), 'summary end_time');
        assert.ok(
          rig.receiver.requests().every((r) => r.encoding === (protocol === 'http/json' ? 'json' : 'protobuf')),
        );

        // Span events: exactly the call events, once each, at their own timestamps; no metrics samples, no summaries.
        assert.deepEqual(
          root.events.map((e) => [e.name, e.timeUnixNano]),
          call.events.map((e) => [e.name, ns(e.timeMs)]),
        );
        const byName = new Map(root.events.map((e) => [e.name, e.attributes]));
        assert.deepEqual(byName.get('call.connected'), {
          'twilio.event.group': 'call',
          'twilio.event.name': 'call.connected',
          'twilio.event.level': 'INFO',
          'twilio.event.source': 'gateway',
          'twilio.edge': 'carrier_edge',
          'twilio.edge_location': 'ashburn',
          'twilio.region': 'us1',
        });
        const jitter = byName.get('network-quality-warning-raised.high-jitter');
        assert.equal(jitter?.['twilio.event.source'], 'sdk');
        assert.equal(jitter?.['twilio.event.level'], 'WARNING');
        assert.equal(jitter?.['twilio.edge'], 'sdk_edge');
        assert.equal(jitter?.['twilio.event.group'], 'network-quality-warning-raised');
        assert.equal(jitter?.['twilio.event.name'], 'high-jitter');

        const a = root.attributes;
        assert.equal(a['twilio.call_sid'], call.sid);
        assert.equal(a['twilio.account_sid'], ACCOUNT_SID);
        assert.equal(a['twilio.call.type'], 'carrier');
        assert.equal(a['twilio.call.state'], 'completed');
        assert.equal(a['twilio.call.direction'], 'outbound_api');
        assert.equal(a['twilio.call.duration'], 150);
        assert.equal(a['twilio.call.connect_duration'], 142);
        assert.equal(a['twilio.call.disconnected_by'], 'callee');
        assert.deepEqual(a['twilio.call.tags'], ['high_pdd'], 'tags as a string array');
        assert.equal(a['twilio.call.pdd_ms'], 1520);
        assert.equal(a['twilio.call.last_sip_response'], 200);
        assert.equal(a['twilio.summary.state'], 'complete');
        assert.equal(a['twilio.finalised_by'], 'complete');
        assert.equal(a['twilio.from.country_code'], 'US');
        assert.equal(a['twilio.from.carrier'], 'T-Mobile USA, Inc.');
        assert.equal(a['twilio.from.connection'], 'mobile');
        assert.equal(a['twilio.to.carrier'], 'Comcast');
        assert.equal(a['twilio.to.connection'], 'landline');
        const close = (key: string, expected: number): void => {
          const v = a[key];
          assert.equal(typeof v, 'number', key);
          const n = Number(v);
          assert.ok(Math.abs(n - expected) < 1e-12, `${key} = ${n}, expected ${expected}`);
        };
        close('twilio.carrier_edge.inbound.jitter_avg_seconds', 0.000483035);
        close('twilio.carrier_edge.inbound.packet_loss_ratio', 0.0015);
        close('twilio.carrier_edge.outbound.jitter_avg_seconds', 0.00052);
        assert.equal(a['twilio.carrier_edge.inbound.packets_received'], 7089);
        assert.equal(a['twilio.carrier_edge.inbound.codec'], 'pcmu');

        assert.equal(root.resource['service.name'], 'voice-insights-exporter');

        // Redaction: nothing identifying anywhere in what the backend received.
        const text = spansJson(spans);
        for (const pii of CARRIER_CALL_PII) assert.ok(!text.includes(pii), `${pii} must not be exported by default`);

        const scrape = await rig.h.scrape();
        assert.equal(sampleValue(scrape, 'voice_insights_exporter_traces_finalised_total', { reason: 'complete' }), 1);
        assert.equal(sampleValue(scrape, 'voice_insights_exporter_calls_in_flight'), 0);
      });
    });

    test('EXPOSE_PII=true puts numbers, IPs and client identity on the spans', async () => {
      await withExporter(protocol, { EXPOSE_PII: 'true' }, async (rig) => {
        const call = carrierCall(`otlp-pii-${protocol}`);
        await deliver(rig.h, call);
        const spans = await exported(rig, 1);
        const text = spansJson(spans);
        for (const pii of CARRIER_CALL_PII) assert.ok(text.includes(pii), `${pii} is exported with EXPOSE_PII=true`);
        const root = rootOf(spans);
        assert.equal(root.attributes['twilio.from.number'], '+14155550101');
        assert.equal(root.attributes['twilio.to.number'], '+13035550187');
      });
    });

    test('an event after finalisation is a late child span of the root in the same trace', async () => {
      await withExporter(protocol, {}, async (rig) => {
        const call = carrierCall(`otlp-late-${protocol}`);
        await deliver(rig.h, call);
        const [root] = await exported(rig, 1);
        assert.ok(root);
        rig.clock.advance(5 * 60_000);
        const late = sdkEvent(call.name, 'feedback', 'received', 'INFO', 170);
        assert.equal((await rig.h.post([late])).status, 200);
        const spans = await exported(rig, 2);
        assert.equal(spans.length, 2);
        rootOf(spans);
        const child = spans.find((s) => s.parentSpanId !== undefined);
        assert.ok(child);
        assert.equal(child.name, 'twilio.voice.call.late');
        assert.equal(child.traceId, root.traceId);
        assert.equal(child.traceId, call.sid.slice(2).toLowerCase());
        assert.equal(child.parentSpanId, root.spanId);
        assert.notEqual(child.spanId, root.spanId);
        assert.equal(child.attributes['twilio.late'], true);
        assert.deepEqual(
          child.events.map((e) => [e.name, e.timeUnixNano]),
          [['feedback.received', ns(T0 + 170_000)]],
        );
        const scrape = await rig.h.scrape();
        assert.equal(
          sampleValue(scrape, 'voice_insights_exporter_late_data_total', { kind: 'call-event', outcome: 'late_span' }),
          1,
        );
        assert.equal(
          sampleValue(scrape, 'voice_insights_exporter_traces_finalised_total', { reason: 'complete' }),
          1,
          'late data finalises nothing',
        );
      });
    });

    test('a backend answering 503 at first: the OTLP exporter retries it itself and the trace arrives exactly once', async () => {
      await withExporter(
        protocol,
        {},
        async (rig) => {
          const call = carrierCall(`otlp-503-${protocol}`);
          await deliver(rig.h, call);
          const spans = await exported(rig, 1);
          assert.ok(
            rig.receiver.requests().filter((r) => r.status === 503).length >= 1,
            'the backend refused the first request',
          );
          assert.equal(spans.length, 1, 'exactly once');
          assert.equal(rootOf(spans).traceId, call.sid.slice(2).toLowerCase());
          assert.equal((await rig.h.app.store.size()).spans, 0);
        },
        { failFirst: 1, retryAfterSeconds: 0 },
      );
    });

    test('a backend refusing outright (500): our queue retries with backoff, counts each failure, delivers exactly once', async () => {
      await withExporter(
        protocol,
        { TRACE_EXPORT_RETRY_INITIAL_MS: '20' },
        async (rig) => {
          const call = carrierCall(`otlp-500-${protocol}`);
          await deliver(rig.h, call);
          const spans = await exported(rig, 1);
          const refused = rig.receiver.requests().filter((r) => r.status === 500).length;
          assert.equal(refused, 2, 'the backend refused the first two requests');
          assert.equal(spans.length, 1, 'exactly once');
          assert.equal(rootOf(spans).traceId, call.sid.slice(2).toLowerCase());
          assert.equal((await rig.h.app.store.size()).spans, 0);
          const scrape = await rig.h.scrape();
          assert.equal(sampleValue(scrape, 'voice_insights_exporter_export_failures_total', { signal: 'traces' }), 2);
          assert.equal(
            sampleValue(scrape, 'voice_insights_exporter_traces_finalised_total', { reason: 'complete' }),
            1,
          );
        },
        { failFirst: 2, failStatus: 500 },
      );
    });
  });
}

test('both trace protocols are runtime dependencies (src/telemetry/otlp-traces.ts imports both exporters)', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const source = readFileSync(new URL('../../src/telemetry/otlp-traces.ts', import.meta.url), 'utf8');
  const imported = [...source.matchAll(/from '(@opentelemetry\/[^']+)'/g)].map((m) => m[1] ?? '');
  assert.ok(imported.length >= 2);
  for (const name of imported) {
    assert.ok(
      pkg.dependencies?.[name] !== undefined,
      `${name} is imported by src/ but not in "dependencies": \`npm ci --omit=dev\` would break startup`,
    );
  }
});
