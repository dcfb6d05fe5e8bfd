// When a conference's trace goes out (conference-reducer.ts through the CallAssembler and the real
// StagedStore): on its complete summary once every participant it counted has reported, in whichever
// order they arrive (Twilio sends each participant summary when its leg leaves and the complete
// conference summary with the conference-end event; Event Streams delivers at least once, in any order:
// https://www.twilio.com/docs/events/event-delivery-and-duplication), or after CALL_IDLE_TIMEOUT.
// Exactly once: redeliveries under the same or new CloudEvent ids change nothing.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { CONFERENCE_SPAN_NAME, PARTICIPANT_SPAN_NAME } from '../../src/calls/conference-trace.js';
import { participantSpanIdFor, rootSpanIdFor } from '../../src/calls/ids.js';
import { isConferenceRecord, type StoredCall } from '../../src/calls/ports.js';
import {
  conferenceSummary,
  conferenceTraceId,
  legParticipantSid,
  participantSummary,
  threeLegConference,
  withFreshId,
} from '../support/conference-traffic.js';
import { IDLE_TIMEOUT_MS, assemblerRig, only, type AssemblerRig } from '../support/assembler-rig.js';

function isPendingConference(record: StoredCall | undefined): boolean {
  return record !== undefined && isConferenceRecord(record) && record.status === 'pending';
}

/** What went out for the conference: its root span and participant spans. */
function conferenceSpans(r: AssemblerRig, sid: string) {
  const traceId = conferenceTraceId(sid);
  return {
    roots: r.named(traceId, CONFERENCE_SPAN_NAME),
    participants: r.named(traceId, PARTICIPANT_SPAN_NAME),
    all: r.spans.filter((s) => s.traceId === traceId),
  };
}

/** Exactly one finalisation of `sid`: one root, one span per leg, one conference-finalised effect. */
function assertFinalisedOnce(r: AssemblerRig, sid: string, legs: number, reason: 'complete' | 'idle') {
  const spans = conferenceSpans(r, sid);
  const root = only(spans.roots, 'conference root span');
  assert.equal(root.parentSpanId, undefined);
  assert.equal(root.spanId, rootSpanIdFor(sid));
  assert.equal(root.attributes['twilio.finalised_by'], reason);
  assert.equal(spans.participants.length, legs, 'one span per participant');
  assert.equal(spans.all.length, legs + 1, 'nothing else in the trace');
  const finalised = only(r.effectsOf('conference-finalised'), 'conference-finalised effect');
  assert.equal(finalised.reason, reason);
  assert.equal(finalised.participants.length, legs);
  return { root, participants: spans.participants, finalised };
}

describe('conference finalisation on the complete summary', () => {
  test('partial, two legs, the complete summary, then the last leg: finalised by the last leg, once', async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-last-leg');
    const [p1, p2, p3] = c.participants;
    await r.deliver(c.partial);
    await r.deliver(p1, p2);
    await r.deliver(c.complete);
    assert.equal(r.spans.length, 0, 'the complete summary counts 3 participants; 2 have reported');
    assert.ok(isPendingConference(await r.record(c.sid)));
    assert.deepEqual(r.effects, []);

    await r.deliver(p3);
    const { root, finalised } = assertFinalisedOnce(r, c.sid, 3, 'complete');
    assert.equal(root.attributes['twilio.conference.summary.state'], 'complete');
    assert.equal(root.attributes['twilio.conference.unique_participants'], 3);
    assert.equal(root.attributes['twilio.conference.participants_reported'], 3);
    assert.equal(finalised.summary?.stage, 'complete');
    assert.deepEqual(finalised.participants.map((p) => p.participantSid).sort(), c.legs.map(legParticipantSid).sort());
    const stored = await r.record(c.sid);
    assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'finalised');
    assert.equal(await r.assembler.pendingCount(), c.legs.length, 'only the legs (call records) are still pending');
  });

  test('out of order: every participant before any conference summary, the partial after the complete one', async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-participants-first');
    const [p1, p2, p3] = c.participants;
    await r.deliver(p3);
    await r.deliver(p1, p2);
    assert.equal(r.spans.length, 0, 'without a complete summary nobody knows how many legs there are');
    assert.ok(isPendingConference(await r.record(c.sid)));

    await r.deliver(c.complete);
    const { root } = assertFinalisedOnce(r, c.sid, 3, 'complete');
    assert.equal(root.startMs, c.start, 'from the summary create_time');
    assert.equal(root.endMs, c.end);

    await r.deliver(c.partial);
    assert.equal(conferenceSpans(r, c.sid).all.length, 4, 'an older partial after the end is no news');
    assert.deepEqual(r.effectsOf('late'), [{ kind: 'late', late: 'conference-summary', outcome: 'ignored' }]);
  });

  test('everything in one body, shuffled: one finalisation', async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-one-body');
    const [p1, p2, p3] = c.participants;
    await r.deliver(p2, c.complete, p3, c.partial, p1);
    assertFinalisedOnce(r, c.sid, 3, 'complete');
  });

  test('a complete summary counting no participant (a start failure) finalises at once', async () => {
    const r = assemblerRig();
    const sid = 'CF' + 'a1'.repeat(16);
    await r.deliver(
      conferenceSummary(sid, 'complete', {
        start: null,
        uniqueParticipants: 0,
        status: 'not_started',
        tags: ['start_failure'],
      }),
    );
    const root = only(conferenceSpans(r, sid).roots, 'root');
    assert.equal(root.status.code, 'error');
    assert.deepEqual(root.attributes['twilio.conference.tags'], ['start_failure']);
  });
});

describe('idle finalisation', () => {
  test('a conference whose complete summary never comes is finalised by the sweep after CALL_IDLE_TIMEOUT, not before', async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-idle');
    const [p1, p2] = c.participants;
    await r.deliver(c.partial, p1);
    r.clock.advance(60_000);
    await r.deliver(p2);

    r.clock.advance(IDLE_TIMEOUT_MS - 1);
    await r.assembler.sweep();
    assert.equal(conferenceSpans(r, c.sid).all.length, 0, 'idle for less than the timeout since its last data');
    assert.ok(isPendingConference(await r.record(c.sid)));

    r.clock.advance(2);
    await r.assembler.sweep();
    const { root, participants } = assertFinalisedOnce(r, c.sid, 2, 'idle');
    assert.equal(root.attributes['twilio.conference.summary.state'], 'partial');
    assert.equal(root.attributes['twilio.conference.status'], 'in_progress');
    assert.equal(root.startMs, c.start);
    assert.deepEqual(
      participants.map((s) => s.spanId).sort(),
      [c.legs[0], c.legs[1]].map((leg) => participantSpanIdFor(c.sid, legParticipantSid(leg))).sort(),
    );

    // A second sweep has nothing left to do for the conference.
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    assert.equal(conferenceSpans(r, c.sid).all.length, 3);
    assert.equal(r.effectsOf('conference-finalised').length, 1);
  });

  test('the sweep counts the conferences it finalised', async () => {
    const r = assemblerRig();
    const a = threeLegConference('fin-sweep-count-a');
    const b = threeLegConference('fin-sweep-count-b');
    await r.deliver(a.partial, b.partial);
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    assert.equal(await r.assembler.sweep(), 2);
    assert.equal(r.effectsOf('conference-finalised').length, 2);
  });
});

describe('redelivery changes nothing', () => {
  test('the same CloudEvents again, claimed (duplicates) or applied again (a retried request): no second span or effect', async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-redelivered-same');
    const all = [c.partial, ...c.participants, c.complete];
    await r.deliver(...all);
    assertFinalisedOnce(r, c.sid, 3, 'complete');
    const spans = r.spans.length;
    const effects = r.effects.length;

    await r.deliver(...all);
    assert.equal(r.spans.length, spans, 'claimed ids are duplicates');
    assert.equal(r.effects.length, effects);

    await r.apply(...all);
    assert.equal(r.spans.length, spans, 'applied again past the claim: still no span');
    assertFinalisedOnce(r, c.sid, 3, 'complete');
    assert.equal(r.effectsOf('conference-participants').length, 0, 'no participant counted as late');
    assert.ok(r.effectsOf('late').every((e) => e.outcome === 'ignored'));
  });

  test('the same summaries under new CloudEvent ids after finalisation: ignored, no late span', async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-redelivered-new-ids');
    await r.deliver(c.partial, ...c.participants, c.complete);
    assertFinalisedOnce(r, c.sid, 3, 'complete');
    const spans = r.spans.length;

    await r.deliver(...c.participants.map(withFreshId), withFreshId(c.complete), withFreshId(c.partial));
    assert.equal(r.spans.length, spans, 'no late span for data already in the trace');
    assertFinalisedOnce(r, c.sid, 3, 'complete');
    assert.equal(r.effectsOf('conference-participants').length, 0);
    assert.deepEqual(
      r.effectsOf('late').map((e) => `${e.late}:${e.outcome}`),
      [
        'participant-summary:ignored',
        'participant-summary:ignored',
        'participant-summary:ignored',
        'conference-summary:ignored',
        'conference-summary:ignored',
      ],
    );
  });

  test('a leg re-sent under a new id while pending counts once: the conference does not finalise a leg short', async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-pending-resent');
    const [p1, p2, p3] = c.participants;
    await r.deliver(c.complete, p1, withFreshId(p1), p2, withFreshId(p2));
    assert.equal(r.spans.length, 0, 'two distinct legs of three');
    await r.deliver(p3);
    const { participants } = assertFinalisedOnce(r, c.sid, 3, 'complete');
    assert.equal(new Set(participants.map((s) => s.spanId)).size, 3);
  });

  test("another snapshot of a leg: the one that saw it leave later is the leg's span", async () => {
    const r = assemblerRig();
    const c = threeLegConference('fin-leg-snapshots');
    const [customer] = c.legs;
    const earlier = participantSummary(c.sid, { ...customer, leave: customer.leave - 30_000 });
    const [p1, p2, p3] = c.participants;
    await r.deliver(p1, earlier, p2, p3, c.complete);
    const span = r.spans.find((s) => s.spanId === participantSpanIdFor(c.sid, legParticipantSid(customer)));
    assert.equal(span?.endMs, customer.leave);
    assertFinalisedOnce(r, c.sid, 3, 'complete');
  });
});
