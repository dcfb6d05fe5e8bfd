// Simulated conferences (reference section 7): legs that are real simulated calls, participant
// summaries that name those calls and fall within them, coaches that name the agent they coach,
// conference summaries that count their participants, and every event read by the exporter's own
// converters (FAMILIES) without an issue. Delivered as Twilio would: the partial with the start, each
// participant summary with its leave, the complete summary up to 30 min after the end.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import {
  isEventType,
  type CallSummaryRecord,
  type ConferenceSummaryRecord,
  type ConvertedEvent,
  type ParticipantSummaryRecord,
} from '../../src/events/types.js';
import { planCall } from '../../src/sim/call-plan.js';
import { callCloudEvents, type CloudEvent } from '../../src/sim/cloudevents.js';
import { conferenceCloudEvents } from '../../src/sim/conference-events.js';
import { isConferenceSlot, planConference, type ConferencePlan } from '../../src/sim/conference-plan.js';
import { scheduleCall, scheduleConference, type Delivery } from '../../src/sim/schedule.js';

const SEED = 314;
const CREATED = Date.UTC(2026, 2, 14, 15, 0, 0);
const MIN = 60_000;
const SHARES = { duplicateShare: 0, outOfOrderShare: 0 };

interface Built {
  plan: ConferencePlan;
  /** Every delivery of the conference: its legs' call events and its Conference Insights events. */
  deliveries: Delivery[];
  /** Each CloudEvent once, converted by the exporter's own converter for its type. */
  converted: { event: CloudEvent; record: ConvertedEvent }[];
  problems: string[];
}

/** Through JSON, the envelope parser and the family converter, as the exporter receives an event. */
function convert(event: CloudEvent): ConvertedEvent | string {
  const parsed = parseEnvelope(JSON.parse(JSON.stringify(event)));
  if (!parsed.ok) return `${event.id}: envelope ${JSON.stringify(parsed.issues)}`;
  const type = parsed.envelope.info.type;
  if (!isEventType(type)) return `${event.id}: unknown type ${type}`;
  const converted = FAMILIES[type](parsed.envelope);
  return converted.ok ? converted.value : `${event.id} (${type}): ${JSON.stringify(converted.issues)}`;
}

function build(index: number, speed = 60, badShare = 0.3): Built {
  const plan = planConference(SEED, index, { badShare });
  const deliveries = [
    ...plan.calls.flatMap((leg) =>
      scheduleCall(leg, callCloudEvents(leg), CREATED, { speed, ...SHARES }, plan.lengthMs),
    ),
    ...scheduleConference(plan, conferenceCloudEvents(plan), CREATED, { speed, ...SHARES }),
  ];
  const converted: Built['converted'] = [];
  const problems: string[] = [];
  for (const d of deliveries) {
    const event = d.event.build(d.clock);
    const record = convert(event);
    if (typeof record === 'string') problems.push(record);
    else converted.push({ event, record });
  }
  return { plan, deliveries, converted, problems };
}

const built = Array.from({ length: 150 }, (_, i) => build(i));

const participantsOf = (b: Built) =>
  b.converted.map((c) => c.record).filter((r): r is ParticipantSummaryRecord => r.kind === 'participant-summary');
const conferenceSummaries = (b: Built) =>
  b.converted.map((c) => c.record).filter((r): r is ConferenceSummaryRecord => r.kind === 'conference-summary');
const completeCallSummaries = (b: Built) =>
  b.converted
    .map((c) => c.record)
    .filter((r): r is CallSummaryRecord => r.kind === 'call-summary' && r.stage === 'complete');
const completeOf = (b: Built) => {
  const complete = conferenceSummaries(b).find((s) => s.stage === 'complete');
  assert.ok(complete, b.plan.conferenceSid);
  return complete;
};

describe('conferences parse through the exporter’s converters', () => {
  test('every call and conference event of 150 conferences converts without an issue', () => {
    assert.deepEqual(
      built.flatMap((b) => b.problems),
      [],
    );
    const types = new Set<string>(built.flatMap((b) => b.converted.map((c) => c.event.type)));
    for (const type of [
      'com.twilio.voice.insights.conference-summary.partial',
      'com.twilio.voice.insights.conference-summary.complete',
      'com.twilio.voice.insights.conference-participant-summary.complete',
      'com.twilio.voice.insights.call-summary.complete',
      'com.twilio.voice.insights.call-metrics.sdk',
      'com.twilio.voice.insights.call-metrics.gateway',
    ])
      assert.ok(types.has(type), type);
  });

  test('event ids are unique across conferences, their legs and plain calls of the same seed', () => {
    const plain = Array.from({ length: 150 }, (_, i) => planCall(SEED, i, { badShare: 0.3 })).flatMap((p) =>
      callCloudEvents(p).map((e) => e.id),
    );
    const ids = [...built.flatMap((b) => b.converted.map((c) => c.event.id)), ...plain];
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^EZ[0-9a-f]{32}$/);
  });

  test('dataschema: ConferenceSummary/1 for the partial, /2 for the complete, ConferenceParticipantSummary/2', () => {
    for (const { event } of built.flatMap((b) => b.converted)) {
      const expected = {
        'com.twilio.voice.insights.conference-summary.partial': 'VoiceInsights.ConferenceSummary/1',
        'com.twilio.voice.insights.conference-summary.complete': 'VoiceInsights.ConferenceSummary/2',
        'com.twilio.voice.insights.conference-participant-summary.complete':
          'VoiceInsights.ConferenceParticipantSummary/2',
      }[event.type as string];
      if (expected !== undefined) assert.equal(event.dataschema, `https://events-schemas.twilio.com/${expected}`);
    }
  });

  test('the same seed and index plan the same conference', () => {
    assert.deepEqual(planConference(SEED, 7, { badShare: 0.3 }), planConference(SEED, 7, { badShare: 0.3 }));
    assert.notEqual(
      planConference(SEED, 7, { badShare: 0.3 }).conferenceSid,
      planConference(SEED, 8, { badShare: 0.3 }).conferenceSid,
    );
  });
});

describe('legs are real simulated calls', () => {
  test('2-4 participants; every participant summary names the CallSid of one of its legs, whose call has a complete summary', () => {
    const sizes = new Set<number>();
    for (const b of built) {
      const legs = new Map(completeCallSummaries(b).map((s) => [s.callSid, s]));
      assert.equal(legs.size, b.plan.calls.length, b.plan.conferenceSid);
      const participants = participantsOf(b);
      if (b.plan.status === 'completed') sizes.add(participants.length);
      const sids = participants.map((p) => p.callSid);
      assert.equal(new Set(sids).size, sids.length, 'one participant per leg');
      for (const p of participants) {
        assert.equal(p.conferenceSid, b.plan.conferenceSid);
        assert.ok(p.callSid !== undefined && legs.has(p.callSid), `${p.callSid} is a simulated leg`);
        // The leg's own events exist too (its CallSid trace).
        assert.ok(
          b.converted.some((c) => c.record.kind === 'call-metric' && c.record.callSid === p.callSid),
          `${p.callSid} has metrics`,
        );
      }
    }
    assert.deepEqual([...sizes].sort(), [2, 3, 4]);
  });

  test("each participant's join < leave, both within its leg's call (start_time..end_time); actions between them", () => {
    for (const b of built) {
      const legs = new Map(completeCallSummaries(b).map((s) => [s.callSid, s]));
      for (const p of participantsOf(b)) {
        const call = legs.get(p.callSid ?? '');
        assert.ok(call?.startTime !== undefined && call.endTime !== undefined);
        assert.ok(p.joinTime !== undefined && p.leaveTime !== undefined);
        assert.ok(p.joinTime < p.leaveTime, `${p.callSid}: join ${p.joinTime} < leave ${p.leaveTime}`);
        assert.ok(call.startTime <= p.joinTime, `${p.callSid}: the call starts before it joins`);
        assert.ok(p.leaveTime <= call.endTime, `${p.callSid}: the call ends after it leaves`);
        assert.equal(p.durationSeconds, (p.leaveTime - p.joinTime) / 1000);
        for (const a of p.actions)
          assert.ok(a.timeMs >= p.joinTime && a.timeMs <= p.leaveTime + 999, `${a.name} at ${a.timeMs}`);
      }
    }
  });

  test('call summaries say conference_participant for legs that joined, not for a dial that failed', () => {
    let failedDials = 0;
    for (const b of built) {
      const joined = new Set(participantsOf(b).map((p) => p.callSid));
      for (const s of completeCallSummaries(b)) {
        assert.equal(s.conferenceParticipant, joined.has(s.callSid), s.callSid);
        if (!joined.has(s.callSid)) {
          failedDials++;
          assert.equal(s.callState, 'fail');
        }
      }
    }
    assert.ok(failedDials > 0, 'some conferences never start: their agent dial failed');
  });

  test('customer inbound on carrier or SIP, agent and supervisor outbound on the SDK, a third party outbound on carrier', () => {
    const expected: Record<string, [string, string[]]> = {
      customer: ['inbound', ['carrier', 'sip']],
      agent: ['outbound', ['client']],
      supervisor: ['outbound', ['client']],
      external: ['outbound', ['carrier']],
    };
    const seen = new Set<string>();
    for (const p of built.flatMap(participantsOf)) {
      const [direction, types] = expected[p.label ?? ''] ?? ['?', []];
      seen.add(p.label ?? '');
      assert.equal(p.callDirection, direction, p.label);
      assert.ok(types.includes(p.callType ?? ''), `${p.label}: ${p.callType}`);
      assert.equal(p.isModerator, p.label === 'agent');
      // Only legs the Participants API dialled report an outbound queue.
      assert.equal(p.outboundTimeInQueueSeconds !== undefined, direction === 'outbound', p.label);
    }
    assert.deepEqual([...seen].sort(), ['agent', 'customer', 'external', 'supervisor']);
  });
});

describe('coaching, holds and mutes', () => {
  test("a coach names the agent's CallSid, a leg of the same conference, and starts coaching as it joins", () => {
    let coaches = 0;
    for (const b of built) {
      const participants = participantsOf(b);
      for (const p of participants.filter((x) => x.isCoach === true)) {
        coaches++;
        const agent = participants.find((x) => x.label === 'agent');
        assert.equal(p.label, 'supervisor');
        assert.deepEqual(p.coachedParticipants, [agent?.callSid]);
        assert.equal(p.actions[0]?.name, 'coaching');
        assert.equal(p.properties['enter_muted'], false);
      }
      for (const p of participants.filter((x) => x.isCoach !== true))
        assert.deepEqual(p.coachedParticipants, [], `${p.label} coaches nobody`);
    }
    assert.ok(coaches > 5, `${coaches} coaches`);
  });

  test('holds come in hold/unhold pairs on the customer; monitoring supervisors join muted', () => {
    let held = 0;
    let monitors = 0;
    for (const p of built.flatMap(participantsOf)) {
      const names = p.actions.map((a) => a.name);
      if (names.includes('hold')) {
        held++;
        assert.equal(p.label, 'customer');
        const pairs = names.filter((n) => n === 'hold' || n === 'unhold');
        for (let i = 0; i < pairs.length; i++) assert.equal(pairs[i], i % 2 === 0 ? 'hold' : 'unhold');
      }
      if (p.label === 'supervisor' && p.isCoach !== true) {
        monitors++;
        assert.equal(p.actions[0]?.name, 'mute');
        assert.equal(p.properties['enter_muted'], true);
      }
    }
    assert.ok(held > 10 && monitors > 5, `${held} held, ${monitors} monitors`);
  });
});

describe('conference summaries', () => {
  test('unique_participants = participant summaries; max concurrent between 1 and that; ended_by is one of its legs', () => {
    for (const b of built) {
      const complete = completeOf(b);
      const participants = participantsOf(b);
      assert.equal(complete.uniqueParticipants, participants.length, b.plan.conferenceSid);
      assert.ok((complete.maxConcurrentParticipants ?? 0) >= 1);
      assert.ok((complete.maxConcurrentParticipants ?? 0) <= participants.length);
      assert.equal(complete.status, b.plan.status);
      assert.equal(complete.endReason, b.plan.endReason);
      assert.equal(complete.processingState, 'complete');
      if (complete.endReason === 'conference_ended_via_api') assert.equal(complete.endedBy, undefined);
      else
        assert.ok(
          participants.some((p) => p.callSid === complete.endedBy),
          `ended by ${complete.endedBy}`,
        );
      // Everyone has left by the end, and nobody joined before the conference was created.
      for (const p of participants) {
        assert.ok((p.leaveTime ?? Infinity) <= (complete.endTime ?? 0));
        assert.ok((p.joinTime ?? 0) >= (complete.createTime ?? Infinity));
      }
    }
  });

  test('started conferences: a partial at the start (in progress, the two that started it), then the complete one', () => {
    for (const b of built.filter((x) => x.plan.status === 'completed')) {
      const [partial, ...rest] = conferenceSummaries(b);
      assert.equal(partial?.stage, 'partial');
      assert.equal(partial?.status, 'in_progress');
      assert.equal(partial?.endTime, undefined);
      assert.equal(partial?.uniqueParticipants, 2);
      assert.deepEqual(
        rest.map((s) => s.stage),
        ['complete'],
      );
      const complete = rest[0];
      assert.equal(complete?.startTime, partial?.startTime);
      // The agent's join starts it (startConferenceOnEnter).
      const agent = participantsOf(b).find((p) => p.label === 'agent');
      assert.equal(complete?.startTime, agent?.joinTime);
      assert.equal(agent?.properties['start_conference_on_enter'], true);
    }
  });

  test('a start failure: not_started, no partial, the customer alone, tags start_failure and no_concurrent_participants', () => {
    const failed = built.filter((b) => b.plan.status === 'not_started');
    assert.ok(failed.length > 0);
    for (const b of failed) {
      const summaries = conferenceSummaries(b);
      assert.deepEqual(
        summaries.map((s) => s.stage),
        ['complete'],
      );
      const complete = completeOf(b);
      assert.equal(complete.startTime, undefined);
      assert.deepEqual(complete.tags, ['start_failure', 'no_concurrent_participants']);
      assert.equal(complete.uniqueParticipants, 1);
      assert.deepEqual(
        participantsOf(b).map((p) => p.label),
        ['customer'],
      );
    }
  });

  test('quality tags follow the participants: quality_warnings with high_jitter exactly when a stream crosses 5 ms avg and 30 ms max', () => {
    let warned = 0;
    for (const b of built.filter((x) => x.plan.status === 'completed')) {
      const complete = completeOf(b);
      const streams = participantsOf(b).flatMap((p) => [p.inbound, p.outbound]);
      const jittery = streams.some((q) => (q?.jitterAvgSeconds ?? 0) >= 0.005 && (q?.jitterMaxSeconds ?? 0) >= 0.03);
      assert.equal(complete.tags.includes('high_jitter'), jittery, b.plan.conferenceSid);
      const anyQuality = ['high_jitter', 'high_packet_loss', 'high_latency', 'low_mos'].some((t) =>
        complete.tags.includes(t),
      );
      assert.equal(complete.tags.includes('quality_warnings'), anyQuality);
      if (anyQuality) warned++;
      // detected_issues.call_quality counts the participants with a tagged stream.
      const tagged = participantsOf(b).filter(
        (p) => (p.inbound?.tags.length ?? 0) + (p.outbound?.tags.length ?? 0) > 0,
      );
      assert.equal(complete.detectedIssues['call_quality'], tagged.length);
    }
    // --bad-share 0.3 troubles about three conferences in ten.
    assert.ok(warned > 20 && warned < 80, `${warned} of ${built.length} with quality warnings`);
  });
});

describe('delivery timing at speed 1 (reference section 7)', () => {
  const slow = Array.from({ length: 40 }, (_, i) => build(i, 1));
  const conferenceDeliveries = (b: Built, timing: string) => b.deliveries.filter((d) => d.event.timing === timing);

  test('partial within 90 s of the start, participant summaries within 90 s of leaving, complete 30 s to 30 min after the end', () => {
    for (const b of slow) {
      for (const d of conferenceDeliveries(b, 'conference-start')) {
        const lag = d.dueMs - d.clock.epochMs(d.event.atMs);
        assert.ok(lag >= 0 && lag <= 90_000, `partial lag ${lag}`);
      }
      for (const d of conferenceDeliveries(b, 'participant-leave')) {
        const lag = d.dueMs - d.clock.epochMs(d.event.atMs);
        assert.ok(lag >= 0 && lag <= 90_000, `participant lag ${lag}`);
      }
      for (const d of conferenceDeliveries(b, 'conference-end')) {
        const lag = d.dueMs - d.clock.epochMs(d.event.atMs);
        assert.ok(lag >= 30_000 && lag <= 30 * MIN, `complete lag ${lag}`);
      }
    }
  });

  test('no event claims a time later than its delivery; legs share the conference’s clock', () => {
    for (const b of slow) {
      for (const d of b.deliveries) assert.ok(Date.parse(d.event.build(d.clock).time) <= d.dueMs);
      const anchors = new Set(b.deliveries.map((d) => d.clock.epochMs(0)));
      assert.equal(anchors.size, 1, 'one time line for the conference and its legs');
    }
  });

  test('the complete summary sometimes arrives before the last participant summary, sometimes after', () => {
    const order = slow
      .filter((b) => b.plan.participants.length > 0)
      .map((b) => {
        const complete = conferenceDeliveries(b, 'conference-end')[0]?.dueMs ?? 0;
        const last = Math.max(...conferenceDeliveries(b, 'participant-leave').map((d) => d.dueMs));
        return complete < last;
      });
    assert.ok(order.includes(true) && order.includes(false));
  });
});

describe('which new calls become conferences', () => {
  test('a share of 0 never, 1 always, 0.3 about three in ten; the same index decides the same way', () => {
    const picks = (share: number) => Array.from({ length: 1000 }, (_, i) => isConferenceSlot(SEED, i, share));
    assert.ok(picks(0).every((x) => !x));
    assert.ok(picks(1).every((x) => x));
    const n = picks(0.3).filter(Boolean).length;
    assert.ok(n > 250 && n < 350, `${n}`);
    assert.deepEqual(picks(0.3), picks(0.3));
  });
});
