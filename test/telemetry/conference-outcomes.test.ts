// Once-per-conference and once-per-participant metrics, driven with the conference fixtures (Twilio's
// published REST examples) through the recorder the conference finaliser uses, read back from /metrics.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { FAMILIES } from '../../src/events/families.js';
import type { ConferenceSummaryRecord, ParticipantSummaryRecord } from '../../src/events/types.js';
import { CONFERENCE_TAGS } from '../../src/telemetry/catalog.js';
import { fixtureEnvelope } from '../support/fixtures.js';
import { startExporter } from '../support/harness.js';
import { parseSamples, sampleSum, sampleValue, type Sample } from '../support/prom.js';

function convert(rel: string) {
  const envelope = fixtureEnvelope(rel);
  const family = FAMILIES[envelope.info.type as keyof typeof FAMILIES];
  const converted = family(envelope);
  assert.ok(converted.ok, rel);
  return converted.value;
}

function conference(rel: string): ConferenceSummaryRecord {
  const record = convert(`conference-summary/${rel}.json`);
  assert.ok(record.kind === 'conference-summary', rel);
  return record;
}

function participant(rel: string): ParticipantSummaryRecord {
  const record = convert(`conference-participant-summary/${rel}.json`);
  assert.ok(record.kind === 'participant-summary', rel);
  return record;
}

/** The four legs of the REST example conference CF3e1e4bfe16ef60f065c3dc82a810c79f. */
const LEGS = [
  'complete-rest-example',
  'guide-spelling-rest-list-example',
  'client-leg-mos-object-silent-v1',
  'coach-events-epoch-seconds',
];

const near = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

test('a finalised conference counts once by status and end reason, with its tags, duration and participant counts', async () => {
  const h = await startExporter();
  try {
    const summary = conference('complete-rest-example');
    const legs = LEGS.map(participant);
    h.app.conferenceOutcomes.recordConference(summary, legs);
    const samples = parseSamples(await h.scrape());

    assert.equal(sampleSum(samples, 'twilio_voice_conferences_total'), 1);
    assert.equal(
      sampleValue(samples, 'twilio_voice_conferences_total', {
        status: 'completed',
        end_reason: 'last_participant_left',
      }),
      1,
    );
    // Its three tags once each; every other documented tag still exposed, at 0.
    assert.deepEqual([...summary.tags].sort(), [
      'detected_silence',
      'duplicate_identity',
      'participant_behavior_issues',
    ]);
    for (const tag of CONFERENCE_TAGS)
      assert.equal(
        sampleValue(samples, 'twilio_voice_conference_tags_total', { tag }),
        summary.tags.includes(tag) ? 1 : 0,
        tag,
      );
    assert.equal(sampleValue(samples, 'twilio_voice_conference_duration_seconds_sum'), summary.durationSeconds);
    assert.equal(sampleValue(samples, 'twilio_voice_conference_duration_seconds_count'), 1);
    // 4 unique and 4 at once: le="4" holds it, le="3" does not.
    for (const kind of ['max_concurrent', 'unique']) {
      assert.equal(sampleValue(samples, 'twilio_voice_conference_participants_sum', { kind }), 4, kind);
      assert.equal(sampleValue(samples, 'twilio_voice_conference_participants_bucket', { kind, le: '3' }), 0, kind);
      assert.equal(sampleValue(samples, 'twilio_voice_conference_participants_bucket', { kind, le: '4' }), 1, kind);
    }
  } finally {
    await h.stop();
  }
});

test('each participant counts once by call type, direction and role, with its duration, queue time and stream quality', async () => {
  const h = await startExporter();
  try {
    const legs = LEGS.map(participant);
    h.app.conferenceOutcomes.recordConference(conference('complete-rest-example'), legs);
    const samples = parseSamples(await h.scrape());
    const total = 'twilio_voice_conference_participants_total';

    assert.equal(sampleSum(samples, total), 4);
    // REST example: outbound carrier moderators (both carrier legs); the coach is a SIP leg, the client leg inbound.
    assert.equal(
      sampleValue(samples, total, { call_type: 'carrier', call_direction: 'outbound', role: 'moderator' }),
      2,
    );
    assert.equal(sampleValue(samples, total, { call_type: 'sip', call_direction: 'outbound', role: 'coach' }), 1);
    assert.equal(
      sampleValue(samples, total, { call_type: 'client', call_direction: 'inbound', role: 'participant' }),
      1,
    );

    const byType = (type: string, pick: (p: ParticipantSummaryRecord) => number | undefined) =>
      legs.filter((p) => p.callType === type).reduce((n, p) => n + (pick(p) ?? 0), 0);
    for (const type of ['carrier', 'client', 'sip']) {
      assert.equal(
        sampleValue(samples, 'twilio_voice_conference_participant_duration_seconds_sum', { call_type: type }),
        byType(type, (p) => p.durationSeconds),
        type,
      );
    }
    // Queue time: ms in the payload (965 and 3361 for the carrier legs), seconds here; the inbound
    // client leg's value is not a queue it waited in (only legs added through the API are).
    near(
      sampleValue(samples, 'twilio_voice_conference_participant_queue_time_seconds_sum', { call_type: 'carrier' }),
      0.965 + 3.361,
      'carrier queue',
    );
    assert.equal(
      sampleValue(samples, 'twilio_voice_conference_participant_queue_time_seconds_count', { call_type: 'client' }),
      undefined,
    );

    // Per stream direction, in base units: MOS as sent ({avg,max} read as avg), jitter ms -> s, loss % -> ratio.
    for (const direction of ['inbound', 'outbound'] as const) {
      for (const type of ['carrier', 'client', 'sip']) {
        const labels = { call_type: type, stream_direction: direction };
        const of = (pick: (q: NonNullable<ParticipantSummaryRecord['inbound']>) => number | undefined) =>
          byType(type, (p) => {
            const q = p[direction];
            return q === undefined ? undefined : pick(q);
          });
        near(
          sampleValue(samples, 'twilio_voice_conference_participant_mos_sum', labels),
          of((q) => q.mos),
          `mos ${type} ${direction}`,
        );
        near(
          sampleValue(samples, 'twilio_voice_conference_participant_jitter_seconds_sum', labels),
          of((q) => q.jitterAvgSeconds),
          `jitter ${type} ${direction}`,
        );
        near(
          sampleValue(samples, 'twilio_voice_conference_participant_packet_loss_ratio_sum', labels),
          of((q) => q.packetLossRatio),
          `loss ${type} ${direction}`,
        );
      }
    }
    // The SIP leg's numbers, spelled out: jitter 2.7 ms inbound, loss 0.11 %.
    near(
      sampleValue(samples, 'twilio_voice_conference_participant_jitter_seconds_sum', {
        call_type: 'sip',
        stream_direction: 'inbound',
      }),
      0.0027,
      'sip jitter',
    );
    near(
      sampleValue(samples, 'twilio_voice_conference_participant_packet_loss_ratio_sum', {
        call_type: 'sip',
        stream_direction: 'inbound',
      }),
      0.0011,
      'sip loss',
    );
    near(
      sampleValue(samples, 'twilio_voice_conference_participant_mos_sum', {
        call_type: 'client',
        stream_direction: 'inbound',
      }),
      4.21,
      'client MOS {avg,max} reads avg',
    );
  } finally {
    await h.stop();
  }
});

test('a conference that went idle without any summary counts as unknown; late participants count without the conference counting again', async () => {
  const h = await startExporter();
  try {
    const [first, ...rest] = LEGS.map(participant);
    assert.ok(first !== undefined);
    h.app.conferenceOutcomes.recordConference(undefined, [first]);
    h.app.conferenceOutcomes.recordParticipants(rest);
    const samples = parseSamples(await h.scrape());
    assert.deepEqual(
      samples
        .filter((s) => s.name === 'twilio_voice_conferences_total')
        .map((s) => [s.labels['status'], s.labels['end_reason'], s.value]),
      [['unknown', 'unknown', 1]],
    );
    // No summary: no duration, no participant counts, no tags.
    assert.equal(sampleValue(samples, 'twilio_voice_conference_duration_seconds_count'), undefined);
    assert.equal(sampleSum(samples, 'twilio_voice_conference_participants_count'), 0);
    assert.equal(sampleSum(samples, 'twilio_voice_conference_tags_total'), 0);
    assert.equal(sampleSum(samples, 'twilio_voice_conference_participants_total'), 4);
  } finally {
    await h.stop();
  }
});

test("values outside Twilio's documented lists fold into other and are counted; documented ones never fold, whatever METRIC_LABEL_MAX_VALUES", async () => {
  // A limit of 1 would fold the second value of any limited label; the documented lists are exempt.
  const h = await startExporter({ METRIC_LABEL_MAX_VALUES: '1' });
  try {
    const odd: ConferenceSummaryRecord = {
      ...conference('complete-rest-example'),
      status: 'archived',
      endReason: 'CA0123456789abcdef0123456789abcdef',
      tags: ['brand_new_tag', 'another_new_tag', 'start_failure', 'high_jitter', 'low_mos'],
    };
    const leg = participant('complete-rest-example');
    const oddLeg: ParticipantSummaryRecord = { ...leg, callType: 'whatsapp', callDirection: 'both' };
    h.app.conferenceOutcomes.recordConference(odd, [leg, oddLeg]);
    const samples = parseSamples(await h.scrape());
    assert.equal(sampleValue(samples, 'twilio_voice_conferences_total', { status: 'other', end_reason: 'other' }), 1);
    // Two unlisted tags, one conference: `other` once.
    assert.equal(sampleValue(samples, 'twilio_voice_conference_tags_total', { tag: 'other' }), 1);
    for (const tag of ['start_failure', 'high_jitter', 'low_mos'])
      assert.equal(sampleValue(samples, 'twilio_voice_conference_tags_total', { tag }), 1, tag);
    assert.equal(
      sampleValue(samples, 'twilio_voice_conference_participants_total', {
        call_type: 'other',
        call_direction: 'other',
      }),
      1,
    );
    assert.equal(
      sampleValue(samples, 'twilio_voice_conference_participants_total', {
        call_type: 'carrier',
        call_direction: 'outbound',
      }),
      1,
    );
    const overflow = (label: string) =>
      sampleValue(samples, 'voice_insights_exporter_label_overflow_total', {
        metric: 'twilio_voice_conference*',
        label,
      });
    assert.equal(overflow('status'), 1);
    assert.equal(overflow('end_reason'), 1);
    assert.equal(overflow('tag'), 2);
    // The participant's call type is read once per participant and reused for every histogram.
    assert.equal(overflow('call_type'), 1);
    assert.equal(overflow('call_direction'), 1);
    // A SID in a label field never reaches /metrics.
    assert.ok(!samples.some((s: Sample) => Object.values(s.labels).some((v) => v.startsWith('CA0123'))));
  } finally {
    await h.stop();
  }
});
