// conference-summary.partial|complete -> ConferenceSummaryRecord, through the real envelope parser and
// the family table (families.ts), from the fixtures in test/fixtures/conference-summary (sources in
// test/fixtures/README.md). Fields: https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-summary-resource
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { isKnownSchemaVersion, parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import type { FieldIssue } from '../../src/events/family.js';
import { isEventType, type ConferenceSummaryRecord } from '../../src/events/types.js';
import { fixtureEnvelope, loadFixtureEvents } from '../support/fixtures.js';

type Outcome = { ok: true; value: ConferenceSummaryRecord } | { ok: false; issues: FieldIssue[] };

/** What the pipeline does with one CloudEvent: envelope, then the converter its type names. */
function run(element: unknown): Outcome {
  const parsed = parseEnvelope(element);
  if (!parsed.ok) assert.fail(`envelope rejected: ${JSON.stringify(parsed.issues)}`);
  const { info } = parsed.envelope;
  assert.ok(isEventType(info.type));
  const result = FAMILIES[info.type](parsed.envelope);
  if (!result.ok) return result;
  assert.equal(result.value.kind, 'conference-summary');
  return { ok: true, value: result.value };
}

function convert(fixture: string): ConferenceSummaryRecord {
  const [element] = loadFixtureEvents(`conference-summary/${fixture}`);
  const outcome = run(element);
  if (!outcome.ok) assert.fail(`${fixture}: ${JSON.stringify(outcome.issues)}`);
  return outcome.value;
}

/** The REST example's data with `data` fields replaced, as a complete summary CloudEvent. */
function restExampleWith(data: Record<string, unknown>): Record<string, unknown> {
  const [element] = loadFixtureEvents('conference-summary/complete-rest-example.json');
  assert.ok(element !== undefined);
  const original = element['data'] as Record<string, unknown>;
  return { ...element, data: { ...original, ...data } };
}

const at = (iso: string) => Date.parse(iso);

describe('conference-summary', () => {
  test("Twilio's REST example: every field, times as epoch ms, detected issues and tags kept", () => {
    assert.deepEqual(convert('complete-rest-example.json'), {
      kind: 'conference-summary',
      conferenceSid: 'CF3e1e4bfe16ef60f065c3dc82a810c79f',
      accountSid: 'AC7a2f0a0a6baa87eea5fd69fc45de96f3',
      stage: 'complete',
      friendlyName: 'conference1',
      createTime: at('2021-10-08T02:58:47Z'),
      startTime: at('2021-10-08T02:58:51Z'),
      endTime: at('2021-10-08T03:00:02Z'),
      durationSeconds: 76,
      connectDurationSeconds: 72,
      status: 'completed',
      processingState: 'complete',
      maxParticipants: 250,
      maxConcurrentParticipants: 4,
      uniqueParticipants: 4,
      endReason: 'last_participant_left',
      endedBy: 'CA122d489db5a7b6e5d5f148223fdfffe2',
      mixerRegion: 'us1',
      mixerRegionRequested: 'us1',
      recordingEnabled: false,
      detectedIssues: { call_quality: 1, region_configuration: 0, participant_behavior: 3 },
      tags: ['duplicate_identity', 'detected_silence', 'participant_behavior_issues'],
    });
  });

  test('v1 partial: data as a JSON string, a timestamp in datacontenttype and no time; nulls are no value', () => {
    const [element] = loadFixtureEvents('conference-summary/partial-v1-data-as-string-no-time.json');
    assert.equal(typeof element?.['data'], 'string', 'the fixture sends data as a string');
    const envelope = fixtureEnvelope('conference-summary/partial-v1-data-as-string-no-time.json');
    assert.equal(envelope.info.time, undefined, 'no CloudEvent time');
    assert.equal(envelope.info.schemaVersion, 1);
    assert.ok(isKnownSchemaVersion(envelope.info));
    const record = convert('partial-v1-data-as-string-no-time.json');
    assert.equal(record.stage, 'partial', 'the stage comes from the type');
    assert.equal(record.status, 'in_progress');
    assert.equal(record.processingState, 'in_progress');
    assert.equal(record.createTime, at('2021-10-08T02:58:47Z'));
    assert.equal(record.startTime, at('2021-10-08T02:58:51Z'));
    assert.equal(record.endTime, undefined);
    assert.equal(record.durationSeconds, undefined);
    assert.equal(record.endReason, undefined);
    assert.equal(record.endedBy, undefined);
    assert.deepEqual(record.tags, [], 'tags null -> []');
    assert.deepEqual(record.detectedIssues, {}, 'detected_issues null -> {}');
    assert.equal(record.uniqueParticipants, 2);
  });

  test('a conference that never started: not_started, start_failure tag, start null, empty requested region', () => {
    const record = convert('complete-start-failure-not-started.json');
    assert.equal(record.conferenceSid, 'CF3f602f910d7314da834eeabebcbf646f');
    assert.equal(record.status, 'not_started');
    assert.equal(record.startTime, undefined);
    assert.equal(record.createTime, at('2021-10-08T04:12:31Z'));
    assert.equal(record.endTime, at('2021-10-08T04:12:40Z'));
    assert.equal(record.connectDurationSeconds, 0, 'a real 0 stays 0');
    assert.equal(record.mixerRegionRequested, undefined, '"" is no value');
    assert.deepEqual(record.tags, ['start_failure', 'no_concurrent_participants']);
    assert.equal(record.uniqueParticipants, 1);
  });

  test('odd shapes: numbers and booleans as strings, upper-case status, sentinels, odd detected_issues, unknown fields', () => {
    const record = convert('odd-shapes-strings-unknown-fields.json');
    assert.equal(record.conferenceSid, 'CFd526d79da2d8871a9f769d55e5db8fcf', 'trimmed');
    assert.equal(record.durationSeconds, 186);
    assert.equal(record.connectDurationSeconds, 184);
    assert.equal(record.maxParticipants, 250);
    assert.equal(record.maxConcurrentParticipants, 3);
    assert.equal(record.uniqueParticipants, 3);
    assert.equal(record.recordingEnabled, true);
    assert.equal(record.status, 'completed', 'lowercased');
    assert.equal(record.friendlyName, undefined, '"" is no value');
    assert.equal(record.mixerRegion, undefined, 'unknown_realm is a sentinel');
    assert.equal(record.mixerRegionRequested, undefined);
    assert.deepEqual(record.detectedIssues, {}, 'an array is not a map of counts: dropped, the summary kept');
    assert.deepEqual(record.tags, ['quality_warnings', 'high_jitter'], 'duplicate and empty tags dropped');
    assert.equal(record.endReason, 'participant_with_end_conference_on_exit_left');
  });

  test('detected_issues: non-count values and non-identifier keys are dropped, numeric strings read', () => {
    const outcome = run(
      restExampleWith({
        detected_issues: { call_quality: '2', region_configuration: -1, participant_behavior: 1.5, 'bad key!': 3 },
      }),
    );
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.value.detectedIssues, { call_quality: 2 });
  });

  test('the partial and the complete spelling of one conference differ only in their stage', () => {
    const complete = restExampleWith({});
    const partial = {
      ...complete,
      id: 'EZ0b4d7c1e9a8f6e5d4c3b2a1908f7e6d5',
      type: 'com.twilio.voice.insights.conference-summary.partial',
    };
    const a = run(complete);
    const b = run(partial);
    assert.ok(a.ok && b.ok);
    assert.equal(a.value.stage, 'complete');
    assert.equal(b.value.stage, 'partial');
    assert.deepEqual({ ...b.value, stage: 'complete' }, a.value);
  });
});

describe('conference-summary: rejected with field paths, never values', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['conference_sid a number', { conference_sid: 41 }, 'data.conference_sid'],
    ['conference_sid blank', { conference_sid: '   ' }, 'data.conference_sid'],
    ['end_time not ISO-8601', { end_time: 'Fri Oct 08 2021 +15551234567' }, 'data.end_time'],
    ['duration_seconds negative', { duration_seconds: -76 }, 'data.duration_seconds'],
    ['unique_participants text', { unique_participants: 'four+15551234567' }, 'data.unique_participants'],
    ['tags a string', { tags: '+15551234567' }, 'data.tags'],
    ['recording_enabled a phone number', { recording_enabled: '+15551234567' }, 'data.recording_enabled'],
  ];
  for (const [what, data, path] of cases) {
    test(what, () => {
      const outcome = run(restExampleWith(data));
      assert.ok(!outcome.ok, 'must be rejected');
      assert.deepEqual(
        outcome.issues.map((i) => i.path),
        [path],
      );
      const text = JSON.stringify(outcome.issues);
      assert.ok(!text.includes('15551234567'), `no payload value in ${text}`);
      assert.ok(!text.includes('Fri Oct'), `no payload value in ${text}`);
    });
  }

  test('the invalid fixture without conference_sid names only that path', () => {
    const [element] = loadFixtureEvents('invalid/conference-summary-conference-sid-missing.json');
    const outcome = run(element);
    assert.ok(!outcome.ok);
    assert.deepEqual(
      outcome.issues.map((i) => i.path),
      ['data.conference_sid'],
    );
  });
});
