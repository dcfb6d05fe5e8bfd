// The simulator's call plans: deterministic per seed, edges per call type as Twilio documents them,
// and bad flavours whose samples, SDK warnings and summary tags agree with Twilio's thresholds
// (reference §2.2, §3, §4.5).
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { planCall, type CallPlan } from '../../src/sim/call-plan.js';
import { callCloudEvents } from '../../src/sim/cloudevents.js';
import type { GatewayInterval, Media } from '../../src/sim/media.js';
import { TAG_THRESHOLDS } from '../../src/sim/quality.js';

const SEED = 20250314;

/** The first `count` plans of a seed with half the calls bad, so every flavour shows up. */
function plans(count: number, seed = SEED, badShare = 0.5): CallPlan[] {
  return Array.from({ length: count }, (_, i) => planCall(seed, i, { badShare }));
}

function find(predicate: (p: CallPlan) => boolean, what: string): CallPlan {
  const plan = plans(400).find(predicate);
  assert.ok(plan, `no ${what} among the first 400 calls of seed ${SEED}`);
  return plan;
}

describe('call plans are deterministic', () => {
  test('the same seed and index give the same plan and the same CloudEvents', () => {
    const a = planCall(7, 3, { badShare: 0.2 });
    const b = planCall(7, 3, { badShare: 0.2 });
    assert.deepEqual(a, b);
    const clock = { epochMs: (ms: number) => Date.UTC(2026, 0, 1) + ms, emittedAtMs: Date.UTC(2026, 0, 1, 1) };
    assert.deepEqual(
      callCloudEvents(a).map((e) => e.build(clock)),
      callCloudEvents(b).map((e) => e.build(clock)),
    );
  });

  test('another seed gives other calls', () => {
    const sids = (seed: number) => plans(20, seed).map((p) => p.callSid);
    assert.notDeepEqual(sids(1), sids(2));
    assert.equal(new Set([...sids(1), ...sids(2)]).size, 40);
  });

  test('SIDs look like Twilio SIDs', () => {
    for (const p of plans(50)) {
      assert.match(p.callSid, /^CA[0-9a-f]{32}$/);
      assert.match(p.accountSid, /^AC[0-9a-f]{32}$/);
    }
  });
});

describe('call types and edges (reference §3 "Which edges exist per call type")', () => {
  test('carrier -> carrier_edge; sip -> sip_edge; client -> sdk_edge + client_edge; trunking -> carrier_edge + sip_edge', () => {
    const all = plans(300);
    const expected: Record<string, string[]> = {
      carrier: ['carrier_edge'],
      sip: ['sip_edge'],
      client: ['client_edge', 'sdk_edge'],
      trunking: ['carrier_edge', 'sip_edge'],
    };
    for (const p of all) assert.deepEqual([...p.edges].sort(), expected[p.callType], `${p.callType} call ${p.index}`);
    assert.deepEqual(new Set(all.map((p) => p.callType)), new Set(Object.keys(expected)));
  });

  test('directions use Twilio underscores', () => {
    const allowed = new Set([
      'inbound',
      'outbound_api',
      'outbound_dial',
      'trunking_originating',
      'trunking_terminating',
    ]);
    for (const p of plans(200)) assert.ok(allowed.has(p.direction), p.direction);
    assert.ok(plans(200).some((p) => p.direction === 'outbound_api'));
  });

  test("metrics come from the call's own edges only: gateway edges every 10 s per direction, the SDK every second", () => {
    for (const p of plans(60)) {
      const media: Media | undefined = p.media;
      if (media === undefined) continue;
      const gatewayEdges = p.edges.filter((e) => e !== 'sdk_edge');
      for (const edge of gatewayEdges) {
        for (const direction of ['inbound', 'outbound'] as const) {
          const intervals: GatewayInterval[] = media.gateway.filter(
            (g) => g.edge === edge && g.direction === direction,
          );
          assert.equal(intervals.length, Math.ceil((p.connectDurationSeconds ?? 0) / 10), `${edge} ${direction}`);
        }
      }
      assert.ok(media.gateway.every((g) => gatewayEdges.includes(g.edge)));
      assert.equal(media.sdk.length, p.edges.includes('sdk_edge') ? p.connectDurationSeconds : 0);
    }
  });

  test('--bad-share 0 gives only good calls, 1 only bad ones', () => {
    assert.ok(plans(50, SEED, 0).every((p) => p.flavour === 'good'));
    assert.ok(plans(50, SEED, 1).every((p) => p.flavour !== 'good'));
  });
});

describe('bad flavours agree with Twilio thresholds', () => {
  test('good calls complete and carry no tags', () => {
    for (const p of plans(200, SEED, 0).slice(0, 100)) {
      assert.deepEqual(p.tags, [], `call ${p.index}`);
      assert.equal(p.callState, 'completed');
    }
  });

  test('high_jitter on a client call: SDK jitter > 30 ms in many samples, high-jitter warning raised (WARNING), tag high_jitter', () => {
    const p = find((x) => x.flavour === 'high_jitter' && x.callType === 'client', 'high_jitter client call');
    const sdk = p.media?.sdk ?? [];
    const high = sdk.filter((s) => s.jitterMs > 30).length;
    assert.ok(high >= 5 && high >= sdk.length * 0.25, `${high} of ${sdk.length} samples above 30 ms`);
    const avg = sdk.reduce((a, s) => a + s.jitterMs, 0) / sdk.length;
    assert.ok(avg >= TAG_THRESHOLDS.jitterAvgMs);
    const raised = p.callEvents.filter((e) => e.group === 'network-quality-warning-raised' && e.name === 'high-jitter');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.level, 'WARNING');
    assert.equal(raised[0]?.metric?.threshold, 30);
    // The SDK raises on 3 of the last 5 samples above the threshold.
    assert.ok((raised[0]?.metric?.values ?? []).filter((v) => v > 30).length >= 3);
    for (const cleared of p.callEvents.filter((e) => e.group === 'network-quality-warning-cleared'))
      assert.equal(cleared.level, 'INFO');
    assert.ok(p.tags.includes('high_jitter'));
    assert.ok(p.sdkTags.includes('high_jitter'));
  });

  test('high_jitter on a gateway call: cumulative jitter avg >= 5 ms and max >= 30 ms on the troubled stream, tag high_jitter', () => {
    const p = find((x) => x.flavour === 'high_jitter' && x.callType === 'carrier', 'high_jitter carrier call');
    const last = p.media?.gateway.filter((g) => g.edge === 'carrier_edge' && g.direction === 'inbound').at(-1);
    assert.ok(last);
    assert.ok(last.cumulative.jitterAvgMs >= 5 && last.cumulative.jitterMaxMs >= 30, JSON.stringify(last.cumulative));
    assert.ok(p.tags.includes('high_jitter'));
    assert.equal(p.callEvents.filter((e) => e.source === 'sdk').length, 0, 'no SDK on a carrier call');
  });

  test('high_packet_loss: loss above 5 % over the call, tag high_packet_loss', () => {
    for (const type of ['carrier', 'client'] as const) {
      const p = find((x) => x.flavour === 'high_packet_loss' && x.callType === type, `high_packet_loss ${type} call`);
      const stream = p.media?.streams.find((s) => s.direction === 'inbound');
      assert.ok(stream && stream.lossPct > 5, JSON.stringify(stream));
      assert.ok(p.tags.includes('high_packet_loss'));
      if (type === 'client')
        assert.ok(
          p.callEvents.some((e) => e.group === 'network-quality-warning-raised' && e.name === 'high-packet-loss'),
        );
    }
  });

  test('low_mos: a client call with MOS < 3.5 in its samples and on average, low-mos warning, tag low_mos', () => {
    const p = find((x) => x.flavour === 'low_mos', 'low_mos call');
    assert.equal(p.callType, 'client', 'MOS exists on the SDK edge only');
    const sdk = p.media?.sdk ?? [];
    assert.ok(sdk.every((s) => s.mos < 3.5));
    assert.ok((p.media?.sdkQuality?.mos.avg ?? 5) < 3.5);
    assert.ok(
      p.callEvents.some(
        (e) => e.group === 'network-quality-warning-raised' && e.name === 'low-mos' && e.level === 'WARNING',
      ),
    );
    assert.ok(p.tags.includes('low_mos'));
  });

  test('failed: call_state fail, a SIP failure response, never answered, no media, no connect_duration', () => {
    const failed = plans(400).filter((x) => x.flavour === 'failed');
    assert.ok(failed.length >= 5);
    for (const p of failed) {
      assert.equal(p.callState, 'fail');
      assert.ok([486, 503, 404, 480].includes(p.lastSipResponse));
      assert.equal(p.answeredMs, undefined);
      assert.equal(p.connectDurationSeconds, undefined);
      assert.equal(p.media, undefined);
      assert.deepEqual(p.tags, []);
      assert.ok(!p.callEvents.some((e) => e.name === 'call.answered'));
      const complete = callCloudEvents(p).find((e) => e.type.endsWith('call-summary.complete'));
      const data = complete?.build({ epochMs: (ms) => ms, emittedAtMs: 0 }).data;
      assert.equal(data?.['call_state'], 'fail');
      assert.ok(data !== undefined && !('connect_duration' in data));
    }
    assert.ok(failed.some((p) => p.lastSipResponse === 486) && failed.some((p) => p.lastSipResponse === 503));
  });

  test('silence: tag silence; a client call raises constant-audio-input-level', () => {
    const client = find((x) => x.flavour === 'silence' && x.callType === 'client', 'silent client call');
    assert.ok(client.tags.includes('silence'));
    const raised = client.callEvents.find((e) => e.group === 'audio-level-warning-raised');
    assert.equal(raised?.name, 'constant-audio-input-level');
    assert.equal(raised?.level, 'WARNING');
    const carrier = find((x) => x.flavour === 'silence' && x.callType === 'carrier', 'silent carrier call');
    assert.ok(carrier.tags.includes('silence'));
    assert.ok(
      carrier.media?.streams.some((s) => s.silent && s.packetsReceived === 0),
      'the far-side stream is missing',
    );
  });

  test('tags follow the data: no call carries a tag its figures do not justify', () => {
    for (const p of plans(300)) {
      const streams = p.media?.streams ?? [];
      const sdk = p.media?.sdkQuality;
      const jitterHigh =
        streams.some((s) => s.jitterAvgMs >= 5 && s.jitterMaxMs >= 30) ||
        (sdk !== undefined && sdk.jitterAvgMs >= 5 && sdk.jitterMaxMs >= 30);
      assert.equal(p.tags.includes('high_jitter'), jitterHigh, `call ${p.index} high_jitter`);
      const lossHigh = streams.some((s) => s.lossPct > 5) || (sdk !== undefined && sdk.lossPct > 5);
      assert.equal(p.tags.includes('high_packet_loss'), lossHigh, `call ${p.index} high_packet_loss`);
      assert.equal(p.tags.includes('low_mos'), sdk !== undefined && sdk.mos.avg < 3.5, `call ${p.index} low_mos`);
    }
  });
});
