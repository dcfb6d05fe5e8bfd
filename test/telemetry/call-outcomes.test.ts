// Once-per-call metrics, driven with summary fixtures through the recorder the trace finaliser uses.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { FAMILIES } from '../../src/events/families.js';
import type { CallSummaryRecord } from '../../src/events/types.js';
import { fixtureEnvelope, loadFixtureEvents } from '../support/fixtures.js';
import { startExporter } from '../support/harness.js';
import { parseSamples, sampleValue } from '../support/prom.js';

function summary(rel: string): CallSummaryRecord {
  const envelope = fixtureEnvelope(rel);
  const converted = FAMILIES[envelope.info.type as 'com.twilio.voice.insights.call-summary.complete'](envelope);
  assert.ok(converted.ok && converted.value.kind === 'call-summary', rel);
  return converted.value;
}

test('each finalised call is counted once with its type, direction, state and who hung up', async () => {
  const h = await startExporter();
  try {
    const carrier = summary('call-summary/complete-carrier-call.json');
    const failed = summary('call-summary/complete-failed-call.json');
    const client = summary('call-summary/complete-client-call-sdk-edge.json');
    for (const s of [carrier, failed, client]) h.app.callOutcomes.record(s);
    const samples = parseSamples(await h.scrape());
    const calls = samples.filter((s) => s.name === 'twilio_voice_calls_total');
    assert.equal(
      calls.reduce((n, s) => n + s.value, 0),
      3,
    );
    const base = { call_type: carrier.callType ?? '', call_direction: carrier.direction ?? '' };
    assert.equal(
      sampleValue(samples, 'twilio_voice_calls_total', {
        ...base,
        call_state: carrier.callState ?? '',
        disconnected_by: carrier.disconnectedBy ?? 'unknown',
      }),
      1,
    );
    assert.equal(sampleValue(samples, 'twilio_voice_calls_total', { call_state: 'fail' }), 1);
    // Sums over every recorded call with the same type and direction.
    const same = [carrier, failed, client].filter(
      (s) => s.callType === carrier.callType && s.direction === carrier.direction,
    );
    const total = (pick: (s: CallSummaryRecord) => number | undefined) => same.reduce((n, s) => n + (pick(s) ?? 0), 0);
    assert.equal(
      sampleValue(samples, 'twilio_voice_call_duration_seconds_count', base),
      same.filter((s) => s.durationSeconds !== undefined).length,
    );
    assert.equal(
      sampleValue(samples, 'twilio_voice_call_duration_seconds_sum', base),
      total((s) => s.durationSeconds),
    );
    assert.equal(
      sampleValue(samples, 'twilio_voice_call_post_dial_delay_seconds_sum', base),
      total((s) => s.postDialDelaySeconds),
    );
    for (const tag of carrier.tags) {
      assert.equal(
        sampleValue(samples, 'twilio_voice_call_quality_tags_total', { call_type: base.call_type, tag }),
        1,
        tag,
      );
    }
    const sdkMos = client.edges.find((e) => e.edge === 'sdk_edge')?.inbound?.mosAvg;
    assert.ok(sdkMos !== undefined, 'client fixture has an SDK MOS');
    assert.equal(sampleValue(samples, 'twilio_voice_call_mos_sum', { call_type: client.callType ?? '' }), sdkMos);
    // Per edge stream jitter and loss, in base units.
    const inbound = carrier.edges[0]?.inbound;
    assert.ok(inbound?.jitterAvgSeconds !== undefined);
    assert.equal(
      sampleValue(samples, 'twilio_voice_call_jitter_seconds_sum', {
        ...base,
        edge: carrier.edges[0]?.edge ?? '',
        stream_direction: 'inbound',
      }),
      inbound.jitterAvgSeconds,
    );
    // A failed call that never connected records no connect duration.
    assert.equal(failed.connectDurationSeconds ?? 0, 0);
    assert.equal(
      sampleValue(samples, 'twilio_voice_call_connect_duration_seconds_count', base),
      same.filter((s) => (s.connectDurationSeconds ?? 0) > 0).length,
    );
    assert.ok(
      same.includes(failed),
      'the failed fixture shares the carrier call labels, so the count above proves it was skipped',
    );
  } finally {
    await h.stop();
  }
});

test('over the webhook, partial and predicted-complete summaries count nothing; the complete one counts the call once', async () => {
  const h = await startExporter();
  try {
    const calls = async () =>
      parseSamples(await h.scrape())
        .filter((s) => s.name === 'twilio_voice_calls_total')
        .reduce((n, s) => n + s.value, 0);
    const post = async (f: string, id?: string) => {
      const event = fixtureEnvelopeRaw(`call-summary/${f}.json`);
      const res = await h.post([id === undefined ? event : { ...event, id }]);
      assert.equal(res.status, 200);
    };
    await post('partial-processing-version-2');
    await post('predicted-complete');
    assert.equal(await calls(), 0);
    await post('complete-carrier-call');
    assert.equal(await calls(), 1);
    // Twilio sends the complete summary again under a new CloudEvent id: still one call.
    await post('complete-carrier-call', 'EZ0000000000000000000000000000aa99');
    assert.equal(await calls(), 1);
  } finally {
    await h.stop();
  }
});

function fixtureEnvelopeRaw(rel: string): Record<string, unknown> {
  const [first] = loadFixtureEvents(rel);
  assert.ok(first);
  return first;
}

test('annotation call score and STIR/SHAKEN verification: once per call, fixed label sets exposed at 0 from start', async () => {
  const h = await startExporter();
  try {
    const fresh = parseSamples(await h.scrape());
    for (const score of ['1', '2', '3', '4', '5'])
      assert.equal(sampleValue(fresh, 'twilio_voice_call_annotation_scores_total', { call_score: score }), 0, score);
    for (const verified of ['true', 'false', 'unknown'])
      assert.equal(sampleValue(fresh, 'twilio_voice_call_verified_caller_total', { verified }), 0, verified);

    h.app.callOutcomes.record(summary('call-summary/complete-trust-annotation-carrier.json'));
    h.app.callOutcomes.record(summary('call-summary/complete-client-call-sdk-edge.json'));
    h.app.callOutcomes.record(summary('call-summary/complete-carrier-call.json'));
    const samples = parseSamples(await h.scrape());
    // Score 2 from the trust/annotation call, 3 from the client call; the carrier call has no annotation.
    assert.equal(sampleValue(samples, 'twilio_voice_call_annotation_scores_total', { call_score: '2' }), 1);
    assert.equal(sampleValue(samples, 'twilio_voice_call_annotation_scores_total', { call_score: '3' }), 1);
    assert.equal(sampleValue(samples, 'twilio_voice_call_annotation_scores_total', { call_score: '5' }), 0);
    // Both carrier calls carry trust.verified_caller.verified true.
    assert.equal(sampleValue(samples, 'twilio_voice_call_verified_caller_total', { verified: 'true' }), 2);
    // The 2022 `branded_call` trust object says nothing about verification.
    assert.equal(sampleValue(samples, 'twilio_voice_call_verified_caller_total', { verified: 'unknown' }), 1);
    assert.equal(sampleValue(samples, 'twilio_voice_call_verified_caller_total', { verified: 'false' }), 0);
  } finally {
    await h.stop();
  }
});
