// Every CloudEvent the simulator builds passes the exporter's own envelope parser and family schema,
// and has Twilio's shapes: EZ ids, CA/AC sids, dataschema versions, the edge layout of each type,
// and the summary sequence partial(s) -> predicted-complete -> complete (reference §1-§4).
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import { isEventType } from '../../src/events/types.js';
import { planCall, type CallPlan } from '../../src/sim/call-plan.js';
import { callCloudEvents, type CloudEvent } from '../../src/sim/cloudevents.js';
import { scheduleCall } from '../../src/sim/schedule.js';

const SEED = 99;
const CREATED = Date.UTC(2026, 2, 14, 15, 0, 0);

interface Built {
  plan: CallPlan;
  events: CloudEvent[];
}

/** Plans and builds calls exactly as a run would (through the schedule, so `time` is set). */
function build(count: number, badShare = 0.4): Built[] {
  return Array.from({ length: count }, (_, i) => {
    const plan = planCall(SEED, i, { badShare });
    const deliveries = scheduleCall(plan, callCloudEvents(plan), CREATED + i * 1000, {
      speed: 60,
      duplicateShare: 0,
      outOfOrderShare: 0,
    });
    return { plan, events: deliveries.map((d) => d.event.build(d.clock)) };
  });
}

const calls = build(120);
const all = calls.flatMap((c) => c.events);
const data = (e: CloudEvent) => e.data as Record<string, unknown>;

describe('the exporter parses every simulated CloudEvent', () => {
  test('zero invalid: envelope and family schema accept all of them', () => {
    const problems: string[] = [];
    for (const event of all) {
      // Through JSON, as the exporter receives it.
      const parsed = parseEnvelope(JSON.parse(JSON.stringify(event)));
      if (!parsed.ok) {
        problems.push(`${event.id}: envelope ${JSON.stringify(parsed.issues)}`);
        continue;
      }
      const type = parsed.envelope.info.type;
      if (!isEventType(type)) {
        problems.push(`${event.id}: unknown type ${type}`);
        continue;
      }
      const converted = FAMILIES[type](parsed.envelope);
      if (!converted.ok) problems.push(`${event.id} (${type}): ${JSON.stringify(converted.issues)}`);
    }
    assert.deepEqual(problems, []);
    assert.ok(all.length > 1000, `${all.length} events checked`);
  });

  test('the parsed values are the simulated ones (edge, direction, interval packets, tags)', () => {
    const c = calls.find((x) => x.plan.callType === 'client' && x.plan.media !== undefined);
    assert.ok(c);
    const sdkMetric = c.events.find((e) => e.type === 'com.twilio.voice.insights.call-metrics.sdk');
    assert.ok(sdkMetric);
    const parsed = parseEnvelope(sdkMetric);
    assert.ok(parsed.ok);
    const sample = FAMILIES['com.twilio.voice.insights.call-metrics.sdk'](parsed.envelope);
    assert.ok(sample.ok && sample.value.kind === 'call-metric');
    const first = c.plan.media?.sdk[0];
    assert.equal(sample.value.edge, 'sdk_edge');
    assert.equal(sample.value.streamDirection, 'both');
    assert.equal(sample.value.interval.packetsReceived, first?.packetsReceived);
    assert.equal(sample.value.interval.mos?.value, first?.mos);
    assert.equal(sample.value.codec, 'opus');
    const complete = c.events.find((e) => e.type === 'com.twilio.voice.insights.call-summary.complete');
    assert.ok(complete);
    const env = parseEnvelope(complete);
    assert.ok(env.ok);
    const summary = FAMILIES['com.twilio.voice.insights.call-summary.complete'](env.envelope);
    assert.ok(summary.ok && summary.value.kind === 'call-summary');
    assert.equal(summary.value.callType, 'client');
    assert.equal(summary.value.direction, c.plan.direction);
    assert.deepEqual(summary.value.tags, c.plan.tags);
    assert.equal(summary.value.durationSeconds, c.plan.durationSeconds);
  });
});

describe('Twilio shapes', () => {
  test('ids are EZ + 32 hex and unique; sids CA/AC + 32 hex; source names the call', () => {
    const ids = all.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const e of all) {
      assert.match(e.id, /^EZ[0-9a-f]{32}$/);
      assert.equal(e.specversion, '1.0');
      assert.equal(e.datacontenttype, 'application/json');
      assert.match(String(data(e)['call_sid']), /^CA[0-9a-f]{32}$/);
      assert.match(String(data(e)['account_sid']), /^AC[0-9a-f]{32}$/);
      assert.match(e.source, new RegExp(`^/v1/Voice/${String(data(e)['call_sid'])}/(Events|Metrics|Summary)$`));
    }
  });

  test('complete summaries: PSTN calls carry caller verification, about a third carry an annotation scored by how the call went', () => {
    const verified: boolean[] = [];
    let annotated = 0;
    for (const c of calls) {
      const complete = c.events.find((e) => e.type === 'com.twilio.voice.insights.call-summary.complete');
      assert.ok(complete);
      const d = data(complete);
      const trust = d['trust'] as { verified_caller?: { verified?: unknown } } | null;
      if (c.plan.callType === 'carrier' || c.plan.callType === 'trunking') {
        assert.equal(typeof trust?.verified_caller?.verified, 'boolean', c.plan.callSid);
        verified.push(trust?.verified_caller?.verified === true);
      } else assert.equal(trust, null);
      const annotation = d['annotation'] as { call_score?: unknown } | null;
      if (annotation === null) continue;
      annotated++;
      const score = Number(annotation.call_score);
      const bad = c.plan.callState === 'fail' || c.plan.tags.length > 0;
      assert.ok(bad ? score >= 1 && score <= 2 : score >= 4 && score <= 5, `${c.plan.callSid}: ${score}`);
    }
    assert.ok(verified.includes(true) && verified.includes(false), 'verified and unverified callers');
    assert.ok(annotated > calls.length / 6 && annotated < calls.length / 2, `${annotated} annotated`);
  });

  test('dataschema: CallEvent/3, CallMetric/2, CallSummary/2', () => {
    for (const e of all) {
      const expected = e.type.includes('call-event')
        ? 'VoiceInsights.CallEvent/3'
        : e.type.includes('call-metrics')
          ? 'VoiceInsights.CallMetric/2'
          : 'VoiceInsights.CallSummary/2';
      assert.equal(e.dataschema, `https://events-schemas.twilio.com/${expected}`);
    }
  });

  test('only the reporting edge is populated in events and metrics; the other three are null', () => {
    for (const e of all.filter((x) => !x.type.includes('call-summary'))) {
      const d = data(e);
      const populated = ['carrier_edge', 'sip_edge', 'client_edge', 'sdk_edge'].filter((k) => d[k] !== null);
      assert.deepEqual(populated, [d['edge']], e.id);
    }
  });

  test('gateway metrics: per edge and direction (inbound and outbound), interval counts and loss %, cumulative running totals', () => {
    const c = calls.find((x) => x.plan.callType === 'trunking' && x.plan.media !== undefined);
    assert.ok(c);
    const metrics = c.events.filter((e) => e.type === 'com.twilio.voice.insights.call-metrics.gateway');
    for (const edge of ['carrier_edge', 'sip_edge']) {
      for (const direction of ['inbound', 'outbound']) {
        const series = metrics
          .filter((e) => data(e)['edge'] === edge && data(e)['direction'] === direction)
          .map((e) => data(e)[edge] as Record<string, Record<string, number>>);
        assert.ok(series.length >= 1, `${edge} ${direction}`);
        let running = 0;
        for (const m of series) {
          assert.deepEqual(Object.keys(m['interval'] ?? {}).sort(), [
            'packets_loss_percentage',
            'packets_lost',
            'packets_received',
          ]);
          running += m['interval']?.['packets_received'] ?? 0;
          assert.equal(m['cumulative']?.['packets_received'], running);
        }
      }
    }
    // Gateway metrics are 10 s apart.
    const times = metrics
      .filter((e) => data(e)['edge'] === 'carrier_edge' && data(e)['direction'] === 'inbound')
      .map((e) => Date.parse(String(data(e)['timestamp'])));
    for (let i = 1; i < times.length - 1; i++) assert.equal((times[i] ?? 0) - (times[i - 1] ?? 0), 10_000);
  });

  test('SDK metrics: one a second, jitter/rtt/mos/audio levels as {value} blocks, packets (received, lost, sent) as counts', () => {
    const c = calls.find((x) => x.plan.callType === 'client' && x.plan.media !== undefined);
    assert.ok(c);
    const metrics = c.events.filter((e) => e.type === 'com.twilio.voice.insights.call-metrics.sdk');
    assert.equal(metrics.length, c.plan.connectDurationSeconds);
    const times = metrics.map((e) => Date.parse(String(data(e)['timestamp']))).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) assert.equal((times[i] ?? 0) - (times[i - 1] ?? 0), 1000);
    const interval =
      (data(metrics[0] as CloudEvent)['sdk_edge'] as Record<string, Record<string, unknown>>)['interval'] ?? {};
    for (const k of ['jitter', 'rtt', 'mos', 'audio_in', 'audio_out'])
      assert.deepEqual(Object.keys(interval[k] as object), ['value'], k);
    assert.equal(typeof interval['packets_received'], 'number');
    assert.equal(typeof interval['packets_sent'], 'number');
  });

  test('call events: gateway progress in group "call"; SDK connection events and warnings', () => {
    const c = calls.find((x) => x.plan.callType === 'client' && x.plan.callState === 'completed');
    assert.ok(c);
    const gateway = c.events
      .filter((e) => e.type === 'com.twilio.voice.insights.call-event.gateway')
      .map((e) => `${String(data(e)['group'])}/${String(data(e)['name'])}`);
    assert.deepEqual(gateway, [
      'call/call.initiated',
      'call/call.ringing',
      'call/call.answered',
      'call/call.completed',
    ]);
    const sdk = c.events
      .filter((e) => e.type === 'com.twilio.voice.insights.call-event.sdk')
      .map((e) => `${String(data(e)['group'])}/${String(data(e)['name'])}`);
    assert.ok(sdk.some((x) => x === 'connection/outgoing' || x === 'connection/incoming'));
    assert.ok(sdk.some((x) => x.startsWith('connection/accepted-by-')));
    assert.ok(sdk.some((x) => x.startsWith('connection/disconnected-by-')));
    const warnings = calls
      .flatMap((x) => x.events)
      .filter((e) => String(data(e)['group']).startsWith('network-quality-warning-raised'));
    assert.ok(warnings.length > 0);
    for (const w of warnings) {
      assert.equal(data(w)['level'], 'WARNING');
      const metric = (data(w)['sdk_edge'] as Record<string, Record<string, unknown>>)['metric'];
      assert.equal(typeof metric?.['threshold'], 'number');
      assert.ok(Array.isArray(metric?.['values']));
    }
  });

  test('summaries: 2-3 partials, then predicted-complete, then complete, processing_version increasing', () => {
    for (const c of calls) {
      const summaries = c.events.filter((e) => e.type.includes('call-summary'));
      const kinds = summaries.map((e) => e.type.split('.').pop());
      const partials = kinds.filter((k) => k === 'partial').length;
      assert.ok(partials >= 2 && partials <= 3);
      assert.deepEqual(kinds.slice(partials), ['predicted-complete', 'complete']);
      const versions = summaries.map((e) => Number(data(e)['processing_version']));
      assert.deepEqual(
        versions,
        versions.map((_, i) => i + 1),
      );
      assert.equal(data(summaries.at(-1) as CloudEvent)['processing_state'], 'complete');
      assert.ok(summaries.slice(0, -1).every((e) => data(e)['processing_state'] === 'partial'));
      assert.equal(data(summaries.at(-1) as CloudEvent)['call_type'], c.plan.callType);
      assert.deepEqual(
        (data(summaries.at(-1) as CloudEvent)['properties'] as Record<string, unknown>)['direction'],
        c.plan.direction,
      );
    }
  });
});
