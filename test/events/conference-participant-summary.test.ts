// conference-participant-summary.complete (and the guide's participant-summary.complete) ->
// ParticipantSummaryRecord, through the real envelope parser and the family table, from the fixtures in
// test/fixtures/conference-participant-summary (sources in test/fixtures/README.md). Units (reference
// section 8 item 7): jitter and latency ms -> s, outbound_time_in_queue ms -> s, loss % -> ratio, and the
// `events` action times, Unix epoch numbers in seconds or milliseconds, -> epoch ms.
// Fields: https://www.twilio.com/docs/voice/voice-insights/api/conference/participant-summary-resource
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { isKnownSchemaVersion, parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import type { FieldIssue } from '../../src/events/family.js';
import { MAX_ACTIONS } from '../../src/events/conference-participant-summary.js';
import { isEventType, type ParticipantSummaryRecord } from '../../src/events/types.js';
import { loadFixtureEvents } from '../support/fixtures.js';

type Outcome = { ok: true; value: ParticipantSummaryRecord } | { ok: false; issues: FieldIssue[] };
type CloudEvent = Record<string, unknown>;

function run(element: unknown): Outcome {
  const parsed = parseEnvelope(element);
  if (!parsed.ok) assert.fail(`envelope rejected: ${JSON.stringify(parsed.issues)}`);
  const { info } = parsed.envelope;
  assert.ok(isEventType(info.type));
  assert.ok(isKnownSchemaVersion(info), `schema ${info.schemaName}/${info.schemaVersion} is known`);
  const result = FAMILIES[info.type](parsed.envelope);
  if (!result.ok) return result;
  assert.equal(result.value.kind, 'participant-summary');
  return { ok: true, value: result.value };
}

function fixture(name: string): CloudEvent {
  const [element] = loadFixtureEvents(`conference-participant-summary/${name}`);
  assert.ok(element !== undefined);
  return element;
}

function convert(name: string): ParticipantSummaryRecord {
  const outcome = run(fixture(name));
  if (!outcome.ok) assert.fail(`${name}: ${JSON.stringify(outcome.issues)}`);
  return outcome.value;
}

/** A fixture with `data` fields replaced. */
function withData(name: string, data: Record<string, unknown>): CloudEvent {
  const element = fixture(name);
  return { ...element, data: { ...(element['data'] as Record<string, unknown>), ...data } };
}

function actionsOf(name: string, events: unknown): ParticipantSummaryRecord['actions'] {
  const outcome = run(withData(name, { events }));
  if (!outcome.ok) assert.fail(JSON.stringify(outcome.issues));
  return outcome.value.actions;
}

const at = (iso: string) => Date.parse(iso);
const REST = 'complete-rest-example.json';
const COACH = 'coach-events-epoch-seconds.json';

describe('conference-participant-summary', () => {
  test("Twilio's REST example: every field, jitter ms -> s, queue ms -> s, the mute at its epoch ms", () => {
    const record = convert(REST);
    assert.deepEqual(record, {
      kind: 'participant-summary',
      conferenceSid: 'CF3e1e4bfe16ef60f065c3dc82a810c79f',
      participantSid: 'CP10d83cb9eb28c9df4653894e1df936a1',
      callSid: 'CA122d489db5a7b6e5d5f148223fdfffe2',
      accountSid: 'AC7a2f0a0a6baa87eea5fd69fc45de96f3',
      label: undefined,
      callDirection: 'outbound',
      from: '+10000000000',
      to: '+1000000001',
      callStatus: 'completed',
      countryCode: 'US',
      isModerator: true,
      joinTime: at('2021-10-08T02:58:59Z'),
      leaveTime: at('2021-10-08T03:00:02Z'),
      durationSeconds: 64,
      outboundQueueLength: 0,
      // 965 for a leg of 64 s: milliseconds, though the resource page says seconds.
      outboundTimeInQueueSeconds: 0.965,
      jitterBufferSize: undefined,
      isCoach: false,
      coachedParticipants: [],
      participantRegion: 'us1',
      conferenceRegion: 'us1',
      callType: 'carrier',
      processingState: 'complete',
      properties: {
        start_conference_on_enter: false,
        end_conference_on_exit: false,
        play_early_media: false,
        enter_muted: true,
        beep_on_enter: false,
        beep_on_exit: false,
      },
      // Twilio's value as published: epoch ms (2021-10-08T14:58:51Z).
      actions: [{ name: 'mute', timeMs: 1_633_705_131_000 }],
      inbound: {
        packetsReceived: 49,
        packetsLost: 0,
        packetLossRatio: 0,
        jitterAvgSeconds: 0.00034,
        jitterMaxSeconds: 0.00053,
        latencyAvgSeconds: 0,
        latencyMaxSeconds: 0,
        mos: 4.4,
        tags: [],
      },
      outbound: {
        packetsReceived: 126,
        packetsLost: 0,
        packetLossRatio: 0,
        jitterAvgSeconds: 0.00001,
        jitterMaxSeconds: 0.00001,
        latencyAvgSeconds: 0,
        latencyMaxSeconds: 0,
        mos: 4.4,
        tags: [],
      },
    });
    assert.equal(new Date(record.actions[0]?.timeMs ?? 0).toISOString(), '2021-10-08T14:58:51.000Z');
  });

  test("the guide's participant-summary.complete spelling converts the same; events null -> no actions", () => {
    const record = convert('guide-spelling-rest-list-example.json');
    assert.equal(
      fixture('guide-spelling-rest-list-example.json')['type'],
      'com.twilio.voice.insights.participant-summary.complete',
    );
    assert.equal(record.participantSid, 'CPad7b4afd70af322412be249607e54727');
    assert.equal(record.callSid, 'CA5519ea02a16e588437b44bcca7cb3450');
    assert.equal(record.joinTime, at('2021-10-08T02:58:51Z'));
    assert.equal(record.leaveTime, at('2021-10-08T02:59:55Z'));
    assert.equal(record.outboundTimeInQueueSeconds, 3.361);
    assert.deepEqual(record.actions, []);
    assert.equal(record.properties['start_conference_on_enter'], true);
    assert.equal(record.inbound?.jitterAvgSeconds, 0.00041);
    assert.equal(record.inbound?.jitterMaxSeconds, 0.00084);

    // The very same CloudEvent under either type name gives the same record.
    const other = run({
      ...fixture('guide-spelling-rest-list-example.json'),
      type: 'com.twilio.voice.insights.conference-participant-summary.complete',
    });
    assert.ok(other.ok);
    assert.deepEqual(other.value, record);
  });

  test('a coach: coached CallSids, call_state for the status, actions in epoch seconds -> ms, jitter and latency ms -> s', () => {
    const record = convert(COACH);
    assert.equal(record.isCoach, true);
    assert.deepEqual(record.coachedParticipants, ['CA122d489db5a7b6e5d5f148223fdfffe2']);
    assert.equal(record.callStatus, 'completed', 'call_state read where call_status is absent');
    assert.equal(record.label, 'supervisor');
    assert.equal(record.callType, 'sip');
    assert.equal(record.jitterBufferSize, 'small');
    assert.deepEqual(record.actions, [
      { name: 'coaching', timeMs: at('2021-10-08T02:59:10Z') },
      { name: 'coaching_stopped', timeMs: at('2021-10-08T02:59:40Z') },
      { name: 'hold', timeMs: at('2021-10-08T02:59:45Z') },
      { name: 'unhold', timeMs: at('2021-10-08T02:59:50Z') },
    ]);
    for (const action of record.actions) {
      assert.ok(action.timeMs >= (record.joinTime ?? Infinity) && action.timeMs <= (record.leaveTime ?? -Infinity));
    }
    assert.deepEqual(record.inbound, {
      packetsReceived: 2641,
      packetsLost: 3,
      packetLossRatio: 0.0011,
      jitterAvgSeconds: 0.0027,
      jitterMaxSeconds: 0.0115,
      latencyAvgSeconds: 0.041,
      latencyMaxSeconds: 0.063,
      mos: 4.31,
      tags: [],
    });
    assert.equal(record.outboundTimeInQueueSeconds, 0.412);
  });

  test('a v1 client leg: MOS as {avg, max} -> avg, the silent tag per direction, "" country is no value', () => {
    const record = convert('client-leg-mos-object-silent-v1.json');
    assert.equal(record.callType, 'client');
    assert.equal(record.callDirection, 'inbound');
    assert.equal(record.inbound?.mos, 4.21);
    assert.equal(record.outbound?.mos, 4.4);
    assert.deepEqual(record.outbound?.tags, ['silent']);
    assert.deepEqual(record.inbound?.tags, []);
    assert.equal(record.countryCode, undefined);
    assert.deepEqual(record.coachedParticipants, []);
    assert.equal(record.jitterBufferSize, 'off');
    assert.deepEqual(record.actions, [
      { name: 'mute', timeMs: at('2021-10-08T02:58:54Z') },
      { name: 'unmute', timeMs: at('2021-10-08T02:59:01Z') },
    ]);
  });
});

describe('participant actions: every way Twilio writes a time lands on the same instant', () => {
  const HOLD = at('2021-10-08T02:59:45Z');

  test('epoch seconds, epoch ms, their numeric strings and ISO-8601 give the same action time', () => {
    const forms: unknown[] = [
      HOLD / 1000,
      HOLD,
      String(HOLD / 1000),
      String(HOLD),
      '2021-10-08T02:59:45Z',
      HOLD / 1000 + 0.0004,
    ];
    for (const form of forms) {
      assert.deepEqual(actionsOf(COACH, { hold: [form] }), [{ name: 'hold', timeMs: HOLD }], `form ${String(form)}`);
    }
  });

  test('sorted by time across action names; a single value instead of an array is read', () => {
    assert.deepEqual(actionsOf(COACH, { unhold: [HOLD / 1000 + 5], hold: HOLD / 1000, mute: [HOLD - 10_000] }), [
      { name: 'mute', timeMs: HOLD - 10_000 },
      { name: 'hold', timeMs: HOLD },
      { name: 'unhold', timeMs: HOLD + 5_000 },
    ]);
  });

  test('zero, negative, non-numeric and non-finite times, and non-identifier names, are dropped', () => {
    assert.deepEqual(
      // Parsed from JSON, as a delivery is: "__proto__" is then an own key, not the object's prototype.
      actionsOf(
        COACH,
        JSON.parse(
          `{"hold": [0, -5, "soon", null, {"t": 1}, 1e400, ${HOLD / 1000}], "Bad Name": [${HOLD / 1000}], "__proto__": [${HOLD / 1000}]}`,
        ),
      ),
      [{ name: 'hold', timeMs: HOLD }],
    );
  });

  test(`at most ${MAX_ACTIONS} actions per leg, the earliest kept`, () => {
    const times = Array.from({ length: MAX_ACTIONS + 50 }, (_, i) => HOLD / 1000 + MAX_ACTIONS + 50 - i);
    const actions = actionsOf(COACH, { mute: times });
    assert.equal(actions.length, MAX_ACTIONS);
    assert.equal(actions[0]?.timeMs, HOLD + 1_000);
  });

  test('events that are not an object (a string, an array) leave the leg without actions, the summary kept', () => {
    assert.deepEqual(actionsOf(COACH, 'hold'), []);
    assert.deepEqual(actionsOf(COACH, [HOLD]), []);
  });
});

describe('participant quality and properties: odd values', () => {
  test('a bare jitter number is the average; MOS 0 is no score; an odd metrics tree loses the metrics only', () => {
    const outcome = run(
      withData(REST, {
        metrics: {
          inbound: { jitter: 2.5, mos: 0, total_packets_received: '49', packet_loss_percentage: 1.5 },
          outbound: null,
        },
      }),
    );
    assert.ok(outcome.ok);
    assert.equal(outcome.value.inbound?.jitterAvgSeconds, 0.0025);
    assert.equal(outcome.value.inbound?.jitterMaxSeconds, undefined);
    assert.equal(outcome.value.inbound?.mos, undefined);
    assert.equal(outcome.value.inbound?.packetsReceived, 49);
    assert.equal(outcome.value.inbound?.packetLossRatio, 0.015);
    assert.equal(outcome.value.outbound, undefined);

    const odd = run(withData(REST, { metrics: { inbound: { total_packets_lost: -1 } } }));
    assert.ok(odd.ok, 'the summary is kept');
    assert.equal(odd.value.inbound, undefined);
    assert.equal(odd.value.callSid, 'CA122d489db5a7b6e5d5f148223fdfffe2');
  });

  test('properties: only identifier keys with scalar values, capped', () => {
    const outcome = run(
      withData(REST, {
        properties: { enter_muted: true, region: ' us1 ', 'Not-Id': true, nested: { a: 1 }, blank: ' ', n: 3 },
      }),
    );
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.value.properties, { enter_muted: true, region: 'us1', n: 3 });
  });

  test('coached_participants: blanks dropped; not an array -> none', () => {
    const a = run(withData(COACH, { coached_participants: ['CA122d489db5a7b6e5d5f148223fdfffe2', ' ', ''] }));
    assert.ok(a.ok);
    assert.deepEqual(a.value.coachedParticipants, ['CA122d489db5a7b6e5d5f148223fdfffe2']);
    const b = run(withData(COACH, { coached_participants: 'CA122d489db5a7b6e5d5f148223fdfffe2' }));
    assert.ok(b.ok);
    assert.deepEqual(b.value.coachedParticipants, []);
  });
});

describe('conference-participant-summary: rejected with field paths, never values', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['conference_sid absent', { conference_sid: undefined }, 'data.conference_sid'],
    ['conference_sid a phone number as a number', { conference_sid: 15551234567 }, 'data.conference_sid'],
    ['join_time not ISO-8601', { join_time: 'at +15551234567' }, 'data.join_time'],
    ['leave_time a number', { leave_time: 15551234567 }, 'data.leave_time'],
    ['duration_seconds negative', { duration_seconds: -15551234567 }, 'data.duration_seconds'],
    ['outbound_time_in_queue text', { outbound_time_in_queue: '+15551234567 ms' }, 'data.outbound_time_in_queue'],
    ['is_moderator text', { is_moderator: '+15551234567' }, 'data.is_moderator'],
    ['from an object', { from: { number: '+15551234567' } }, 'data.from'],
  ];
  for (const [what, data, path] of cases) {
    test(what, () => {
      const outcome = run(withData(REST, data));
      assert.ok(!outcome.ok, 'must be rejected');
      assert.deepEqual(
        outcome.issues.map((i) => i.path),
        [path],
      );
      const text = JSON.stringify(outcome.issues);
      assert.ok(!text.includes('5551234567'), `no payload value in ${text}`);
    });
  }

  test('the invalid fixture (conference_sid null) names only that path, not the phone number it carries', () => {
    const [element] = loadFixtureEvents('invalid/conference-participant-summary-conference-sid-missing.json');
    assert.ok(JSON.stringify(element).includes('+14155550177'));
    const outcome = run(element);
    assert.ok(!outcome.ok);
    assert.deepEqual(
      outcome.issues.map((i) => i.path),
      ['data.conference_sid'],
    );
    assert.ok(!JSON.stringify(outcome.issues).includes('4155550177'));
  });
});
