// The call side of a conference leg (call-reducer.ts reduceCallConferenceLink): the leg's call root span
// links to its participant span in the conference trace (trace id = the ConferenceSid's hex digits, span
// id = participantSpanIdFor(ConferenceSid, ParticipantSid)), whichever of the two arrives first. A call
// finalised before its participant summary came gets one late 'twilio.voice.call.conference' span with
// that link instead (a span's links are fixed when it is built), once, whatever is redelivered.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { CALL_CONFERENCE_SPAN_NAME } from '../../src/calls/conference-trace.js';
import { participantSpanIdFor, rootSpanIdFor } from '../../src/calls/ids.js';
import type { SpanData, SpanLinkData } from '../../src/calls/span-data.js';
import {
  conferenceTraceId,
  legCall,
  legCallSid,
  legParticipantSid,
  legTraceId,
  threeLegConference,
  withFreshId,
  type Leg,
} from '../support/conference-traffic.js';
import { IDLE_TIMEOUT_MS, assemblerRig, only, type AssemblerRig } from '../support/assembler-rig.js';

function callRoot(r: AssemblerRig, leg: Leg): SpanData {
  return only(r.named(legTraceId(leg), 'twilio.voice.call'), `root span of ${leg.name}`);
}

function assertLinksToParticipant(links: SpanLinkData[] | undefined, conference: string, leg: Leg): void {
  const link = only(links ?? [], 'link');
  assert.equal(link.traceId, conferenceTraceId(conference));
  assert.equal(link.spanId, participantSpanIdFor(conference, legParticipantSid(leg)));
  assert.deepEqual(link.attributes, {
    'twilio.link.kind': 'conference',
    'twilio.conference_sid': conference,
    'twilio.participant_sid': legParticipantSid(leg),
  });
}

describe("the leg's call root span links to its participant span", () => {
  test('call data first, then the participant summary, then the complete call summary: the link is on the root', async () => {
    const r = assemblerRig();
    const c = threeLegConference('link-call-first');
    const [customer] = c.legs;
    const [event, summary] = legCall(customer);
    assert.ok(event !== undefined && summary !== undefined);
    await r.deliver(event);
    await r.deliver(c.participants[0]);
    await r.deliver(summary);
    const root = callRoot(r, customer);
    assert.equal(root.spanId, rootSpanIdFor(legCallSid(customer)));
    assertLinksToParticipant(root.links, c.sid, customer);
    assert.deepEqual(root.attributes['twilio.conference_sids'], [c.sid]);
    assert.equal(r.named(legTraceId(customer), CALL_CONFERENCE_SPAN_NAME).length, 0, 'no late link span');
  });

  test('the participant summary before any call data: the call is started for it and its root carries the link', async () => {
    const r = assemblerRig();
    const c = threeLegConference('link-participant-first');
    const agent = c.legs[1];
    await r.deliver(c.participants[1]);
    await r.deliver(...legCall(agent));
    assertLinksToParticipant(callRoot(r, agent).links, c.sid, agent);
  });

  test('a leg whose call data never comes: the idle call root still carries the link (the link target exists)', async () => {
    const r = assemblerRig();
    const c = threeLegConference('link-no-call-data');
    const supervisor = c.legs[2];
    await r.deliver(c.participants[2]);
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = callRoot(r, supervisor);
    assert.equal(root.attributes['twilio.finalised_by'], 'idle');
    assertLinksToParticipant(root.links, c.sid, supervisor);
  });

  test('redeliveries of the participant summary while the call is pending add no second link', async () => {
    const r = assemblerRig();
    const c = threeLegConference('link-pending-resent');
    const [customer] = c.legs;
    const [p1] = c.participants;
    await r.deliver(p1);
    await r.apply(p1);
    await r.deliver(withFreshId(p1));
    await r.deliver(...legCall(customer));
    assertLinksToParticipant(callRoot(r, customer).links, c.sid, customer);
  });
});

describe('a call finalised before its participant summary', () => {
  test('one late twilio.voice.call.conference span in the call trace carries the link; repeats add nothing', async () => {
    const r = assemblerRig();
    const c = threeLegConference('link-call-finalised-first');
    const [customer] = c.legs;
    const [p1] = c.participants;
    await r.deliver(...legCall(customer));
    const root = callRoot(r, customer);
    assert.equal(root.links, undefined, 'no conference known when the root span was built');

    r.clock.advance(60_000);
    await r.deliver(p1);
    const late = only(r.named(legTraceId(customer), CALL_CONFERENCE_SPAN_NAME), 'late link span');
    assert.equal(late.parentSpanId, root.spanId);
    assert.equal(late.startMs, customer.join);
    assert.equal(late.endMs, customer.leave);
    assert.equal(late.attributes['twilio.late.kind'], 'conference-link');
    assert.equal(late.attributes['twilio.conference_sid'], c.sid);
    assertLinksToParticipant(late.links, c.sid, customer);
    assert.deepEqual(
      r.effectsOf('late').filter((e) => e.late === 'conference-link'),
      [{ kind: 'late', late: 'conference-link', outcome: 'late_span' }],
    );

    await r.apply(p1);
    await r.deliver(withFreshId(p1));
    assert.equal(r.named(legTraceId(customer), CALL_CONFERENCE_SPAN_NAME).length, 1, 'once');
    assert.equal(r.named(legTraceId(customer), 'twilio.voice.call').length, 1);
    assert.deepEqual(
      r
        .effectsOf('late')
        .filter((e) => e.late === 'conference-link')
        .map((e) => e.outcome),
      ['late_span', 'ignored', 'ignored'],
    );
  });

  test('a call whose root already links to the conference gets no late link span when the leg is re-sent under a new id', async () => {
    const r = assemblerRig();
    const c = threeLegConference('link-root-then-resent');
    const [customer] = c.legs;
    const [p1] = c.participants;
    await r.deliver(p1);
    await r.deliver(...legCall(customer));
    assertLinksToParticipant(callRoot(r, customer).links, c.sid, customer);

    await r.deliver(withFreshId(p1));
    await r.apply(p1);
    assert.equal(r.named(legTraceId(customer), CALL_CONFERENCE_SPAN_NAME).length, 0, 'the root span has the link');
    assert.equal(r.spans.filter((s) => s.traceId === legTraceId(customer)).length, 1);
  });

  test('the same call in two conferences (a transfer): one link each, the second as a late span', async () => {
    const r = assemblerRig();
    const first = threeLegConference('link-transfer-a');
    const second = threeLegConference('link-transfer-b', 200_000);
    const [customer] = first.legs;
    // The customer's call moves from the first conference to the second: same CallSid, another participant.
    const moved: Leg = { ...customer, join: customer.leave, leave: customer.leave + 60_000 };
    const secondLeg = { ...second.participants[0] };
    secondLeg['data'] = {
      ...(secondLeg['data'] as Record<string, unknown>),
      call_sid: legCallSid(customer),
    };
    await r.deliver(first.participants[0]);
    await r.deliver(...legCall({ ...customer, leave: moved.leave }));
    await r.deliver(secondLeg);
    const root = callRoot(r, customer);
    assertLinksToParticipant(root.links, first.sid, customer);
    const late = only(r.named(legTraceId(customer), CALL_CONFERENCE_SPAN_NAME), 'late link span');
    assertLinksToParticipant(late.links, second.sid, second.legs[0]);
  });
});
