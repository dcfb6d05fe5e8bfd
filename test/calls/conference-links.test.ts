// Span links between a conference and its legs, as a tracing backend receives them: a real exporter
// (in process, signed webhooks on loopback) exporting to a real OTLP/HTTP receiver. The link targets are
// checked against the spans that actually arrived, each call's root span built from that call's own
// events and summary: every participant span links to its leg's call root (and a coach's to the coached
// call's root), and every call's root links back to its participant span
// (https://opentelemetry.io/docs/concepts/signals/traces/#span-links).
import { afterEach, beforeEach, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { oneSpan } from '../support/span-links.js';
import { ManualClock } from '../../src/clock.js';
import {
  conferenceTraceId,
  legCall,
  legCallSid,
  legParticipantSid,
  legTraceId,
  threeLegConference,
  type Leg,
} from '../support/conference-traffic.js';
import { startExporter, type Harness } from '../support/harness.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan, type OtlpSpanLink } from '../support/otlp-receiver.js';
import { T0 } from '../support/span-tree.js';

let receiver: OtlpReceiver;
let h: Harness;

beforeEach(async () => {
  receiver = await startOtlpReceiver();
  // The OTLP exporter reads its endpoint from the standard variable when it is constructed.
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${receiver.url}/v1/traces`;
  h = await startExporter(
    { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' },
    { clock: new ManualClock(T0 + 10 * 60_000) },
  );
});

afterEach(async () => {
  await h.stop();
  await receiver.close();
});

async function post(events: Record<string, unknown>[]): Promise<void> {
  const res = await h.post(events);
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { accepted: events.length, duplicate: 0, invalid: 0, unknown_type: 0 });
}

async function received(count: number): Promise<OtlpSpan[]> {
  await h.app.traces.flush(15_000);
  await receiver.waitFor(() => receiver.spans().length >= count, 15_000);
  assert.equal(receiver.spans().length, count);
  return receiver.spans();
}

function callRoot(spans: OtlpSpan[], leg: Leg): OtlpSpan {
  return oneSpan(
    spans,
    `call root of ${leg.name}`,
    (s) => s.traceId === legTraceId(leg) && s.name === 'twilio.voice.call' && s.parentSpanId === undefined,
  );
}

function participantSpan(spans: OtlpSpan[], conference: string, leg: Leg): OtlpSpan {
  return oneSpan(
    spans,
    `participant span of ${leg.name}`,
    (s) =>
      s.traceId === conferenceTraceId(conference) &&
      s.name === 'twilio.voice.conference.participant' &&
      s.attributes['twilio.participant_sid'] === legParticipantSid(leg),
  );
}

function linkOfKind(span: OtlpSpan, kind: string): OtlpSpanLink[] {
  return span.links.filter((l) => l.attributes['twilio.link.kind'] === kind);
}

/** `link` points at exactly `target` (a span that arrived), not at a derivation of its own. */
function assertPointsAt(link: OtlpSpanLink | undefined, target: OtlpSpan, what: string): void {
  assert.ok(link !== undefined, `${what}: no link`);
  assert.deepEqual([link.traceId, link.spanId], [target.traceId, target.spanId], what);
}

describe('conference <-> leg links as the backend receives them', () => {
  test('each participant span links to its call root, the coach also to the coached call; each call root links back', async () => {
    const c = threeLegConference('links-all-pending');
    const [customer, agent, supervisor] = c.legs;
    // The legs' calls begin first (call events, then the complete summaries only after the conference
    // data): every call is pending when its participant summary arrives, so each root carries its link.
    const calls = c.legs.map(legCall);
    await post(calls.map(([event]) => event).filter((e): e is Record<string, unknown> => e !== undefined));
    await post([c.partial, ...c.participants]);
    await post([c.complete]);
    await post(calls.map(([, summary]) => summary).filter((e): e is Record<string, unknown> => e !== undefined));
    const spans = await received(4 + 3);

    for (const leg of c.legs) {
      const root = callRoot(spans, leg);
      const participant = participantSpan(spans, c.sid, leg);
      assert.equal(root.traceId, legCallSid(leg).slice(2).toLowerCase(), 'the call trace is the CallSid');
      assert.equal(participant.traceId, c.sid.slice(2).toLowerCase(), 'the conference trace is the ConferenceSid');
      assert.equal(participant.links.length, leg === supervisor ? 2 : 1);
      assertPointsAt(linkOfKind(participant, 'conference_leg')[0], root, `${leg.name} participant -> call`);
      assert.equal(linkOfKind(participant, 'conference_leg')[0]?.attributes['twilio.call_sid'], legCallSid(leg));

      assert.equal(root.links.length, 1, `${leg.name}: one conference`);
      assertPointsAt(root.links[0], participant, `${leg.name} call -> participant`);
      assert.deepEqual(root.links[0]?.attributes, {
        'twilio.link.kind': 'conference',
        'twilio.conference_sid': c.sid,
        'twilio.participant_sid': legParticipantSid(leg),
      });
      assert.deepEqual(root.attributes['twilio.conference_sids'], [c.sid]);
    }
    const coached = linkOfKind(participantSpan(spans, c.sid, supervisor), 'coached_call');
    assert.equal(coached.length, 1);
    assertPointsAt(coached[0], callRoot(spans, agent), 'supervisor -> coached agent call');
    assert.equal(linkOfKind(participantSpan(spans, c.sid, customer), 'coached_call').length, 0);

    const conferenceRoot = oneSpan(
      spans,
      'conference root',
      (s) => s.traceId === conferenceTraceId(c.sid) && s.parentSpanId === undefined,
    );
    assert.equal(conferenceRoot.links.length, 0);
    for (const leg of c.legs) assert.equal(participantSpan(spans, c.sid, leg).parentSpanId, conferenceRoot.spanId);
  });

  test('a call finalised before its participant summary: its late twilio.voice.call.conference span links to the participant span', async () => {
    const c = threeLegConference('links-call-first');
    const [customer] = c.legs;
    await post(legCall(customer));
    await post([...c.participants, c.complete]);
    const spans = await received(1 + 4 + 1);
    const root = callRoot(spans, customer);
    assert.equal(root.links.length, 0, 'built before the conference was known');
    const late = oneSpan(
      spans,
      'late link span',
      (s) => s.traceId === legTraceId(customer) && s.name === 'twilio.voice.call.conference',
    );
    assert.equal(late.parentSpanId, root.spanId);
    const participant = participantSpan(spans, c.sid, customer);
    assert.equal(late.links.length, 1);
    assertPointsAt(late.links[0], participant, 'late call span -> participant');
    assertPointsAt(linkOfKind(participant, 'conference_leg')[0], root, 'participant -> call root');
  });
});
