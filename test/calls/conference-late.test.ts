// Conference data after its trace went out (conference-reducer.ts): a leg whose participant summary
// comes after finalisation is one late participant span in the conference's trace (and counted once as
// a participant), a repeat of it is ignored; a newer conference summary after an idle finalisation is a
// late summary span, once. Late spans are children of the root span, in the same trace
// (https://opentelemetry.io/docs/concepts/signals/traces/#span-links for the leg links they carry).
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import {
  CONFERENCE_LATE_SPAN_NAME,
  CONFERENCE_SPAN_NAME,
  PARTICIPANT_SPAN_NAME,
} from '../../src/calls/conference-trace.js';
import { participantSpanIdFor, rootSpanIdFor, traceIdFor } from '../../src/calls/ids.js';
import {
  conferenceSummary,
  conferenceTraceId,
  legCallSid,
  legParticipantSid,
  threeLegConference,
  withFreshId,
} from '../support/conference-traffic.js';
import { IDLE_TIMEOUT_MS, assemblerRig, only } from '../support/assembler-rig.js';

describe('a leg after finalisation', () => {
  test('one late participant span with its leg link, counted once; a repeat (same or new id) is ignored', async () => {
    const r = assemblerRig();
    const c = threeLegConference('late-leg');
    const [p1, p2, p3] = c.participants;
    const traceId = conferenceTraceId(c.sid);
    // The complete summary counts 2 legs (a third, the supervisor, joined only briefly and was not
    // counted yet when it was built): finalised with 2, the third comes late.
    await r.deliver(
      p1,
      p2,
      conferenceSummary(c.sid, 'complete', { create: c.start, end: c.end, uniqueParticipants: 2 }),
    );
    assert.equal(r.named(traceId, PARTICIPANT_SPAN_NAME).length, 2);
    assert.equal(r.effectsOf('conference-finalised').length, 1);

    r.clock.advance(5 * 60_000);
    await r.deliver(p3);
    const late = r.named(traceId, PARTICIPANT_SPAN_NAME).filter((s) => s.attributes['twilio.late'] === true);
    const span = only(late, 'late participant span');
    const supervisor = c.legs[2];
    assert.equal(span.spanId, participantSpanIdFor(c.sid, legParticipantSid(supervisor)));
    assert.equal(span.parentSpanId, rootSpanIdFor(c.sid));
    assert.equal(span.startMs, supervisor.join);
    assert.equal(span.endMs, supervisor.leave);
    assert.deepEqual(
      (span.links ?? []).map((l) => [l.traceId, l.spanId, l.attributes['twilio.link.kind']]),
      [
        [traceIdFor(legCallSid(supervisor)), rootSpanIdFor(legCallSid(supervisor)), 'conference_leg'],
        [traceIdFor(legCallSid(c.legs[1])), rootSpanIdFor(legCallSid(c.legs[1])), 'coached_call'],
      ],
    );
    const counted = only(r.effectsOf('conference-participants'), 'conference-participants effect');
    assert.deepEqual(
      counted.participants.map((p) => p.participantSid),
      [legParticipantSid(supervisor)],
    );
    assert.deepEqual(r.effectsOf('late'), [{ kind: 'late', late: 'participant-summary', outcome: 'late_span' }]);
    assert.equal(r.effectsOf('conference-finalised').length, 1, 'the conference is not finalised again');

    const spans = r.spans.length;
    await r.apply(p3); // the retry of the request that carried it
    await r.deliver(withFreshId(p3)); // Twilio re-sent it as a new event
    await r.deliver(withFreshId(p1)); // an early leg re-sent: already in the trace
    assert.equal(r.spans.length, spans, 'no second late span');
    assert.equal(r.effectsOf('conference-participants').length, 1, 'counted once');
    assert.deepEqual(
      r.effectsOf('late').map((e) => e.outcome),
      ['late_span', 'ignored', 'ignored', 'ignored'],
    );
  });

  test('after an idle finalisation without any summary, a leg is late too', async () => {
    const r = assemblerRig();
    const c = threeLegConference('late-leg-idle');
    const [p1, p2] = c.participants;
    await r.deliver(p1);
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = only(r.named(conferenceTraceId(c.sid), CONFERENCE_SPAN_NAME), 'root');
    assert.equal(root.attributes['twilio.conference.summary.state'], 'none');
    assert.equal(root.startMs, c.legs[0].join, 'no summary: from the earliest join');

    await r.deliver(p2);
    const late = only(
      r.named(conferenceTraceId(c.sid), PARTICIPANT_SPAN_NAME).filter((s) => s.attributes['twilio.late'] === true),
      'late participant span',
    );
    assert.equal(late.spanId, participantSpanIdFor(c.sid, legParticipantSid(c.legs[1])));
  });
});

describe('a conference summary after an idle finalisation', () => {
  test('the complete summary after an idle finalisation on a partial: one late summary span; repeats ignored', async () => {
    const r = assemblerRig();
    const c = threeLegConference('late-summary');
    const traceId = conferenceTraceId(c.sid);
    await r.deliver(c.partial, ...c.participants.slice(0, 2));
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = only(r.named(traceId, CONFERENCE_SPAN_NAME), 'root');
    assert.equal(root.attributes['twilio.conference.summary.state'], 'partial');

    await r.deliver(c.complete);
    const late = only(r.named(traceId, CONFERENCE_LATE_SPAN_NAME), 'late summary span');
    assert.equal(late.parentSpanId, rootSpanIdFor(c.sid));
    assert.equal(late.attributes['twilio.late.kind'], 'conference-summary');
    assert.equal(late.attributes['twilio.conference.summary.state'], 'complete');
    assert.equal(late.attributes['twilio.conference.status'], 'completed');
    assert.equal(late.attributes['twilio.conference.end_reason'], 'last_participant_left');
    assert.equal(late.startMs, c.end, 'at the conference end');
    assert.deepEqual(r.effectsOf('late'), [{ kind: 'late', late: 'conference-summary', outcome: 'late_span' }]);

    await r.apply(c.complete);
    await r.deliver(withFreshId(c.complete));
    await r.deliver(withFreshId(c.partial));
    assert.equal(r.named(traceId, CONFERENCE_LATE_SPAN_NAME).length, 1, 'once');
    assert.equal(r.named(traceId, CONFERENCE_SPAN_NAME).length, 1, 'never a second root');
    assert.deepEqual(
      r.effectsOf('late').map((e) => e.outcome),
      ['late_span', 'ignored', 'ignored', 'ignored'],
    );
    assert.equal(r.effectsOf('conference-finalised').length, 1);
  });

  test('after an idle finalisation without any summary, the partial is news too, then the complete one', async () => {
    const r = assemblerRig();
    const c = threeLegConference('late-summary-none');
    await r.deliver(c.participants[0]);
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    await r.deliver(c.partial);
    await r.deliver(c.complete);
    assert.deepEqual(
      r
        .named(conferenceTraceId(c.sid), CONFERENCE_LATE_SPAN_NAME)
        .map((s) => s.attributes['twilio.conference.summary.state']),
      ['partial', 'complete'],
    );
  });
});
