// Issue 14's "done when" with simulated traffic: the simulator's conferences (4, 3 and 2 legs with a
// coach among them, and one that never started) go through a real exporter to a real OTLP receiver.
// Each shows as one conference trace (trace id = the ConferenceSid's 32 hex digits) whose participant
// spans link to the root spans of their legs' call traces, and each leg's call root links back; the
// agent dial that failed is a call trace of its own with no link. Signed HTTP on loopback.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { oneSpan, pointsAt } from '../support/span-links.js';
import { planConference, type ConferencePlan } from '../../src/sim/conference-plan.js';
import type { SimReport } from '../../src/sim/report.js';
import { simulate } from '../../src/sim/simulate.js';
import { startExporter, TEST_TOKEN, type Harness } from '../support/harness.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../support/otlp-receiver.js';

// Seed 47 at 4 new calls, all conferences: 4 legs, a start failure, 2 legs, 3 legs with a coach.
const SEED = 47;
const BAD_SHARE = 0.2;
const CONFERENCES = 4;

let receiver: OtlpReceiver;
let h: Harness;
let report: SimReport;
let plans: ConferencePlan[];

const hex = (sid: string) => sid.slice(2).toLowerCase();
const isCallRoot = (callSid: string) => (s: OtlpSpan) =>
  s.traceId === hex(callSid) && s.name === 'twilio.voice.call' && s.parentSpanId === undefined;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // The OTLP exporter reads its endpoint from the standard variable when it is constructed.
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${receiver.url}/v1/traces`;
  h = await startExporter({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' });
  report = await simulate({
    target: h.webhookUrl,
    publicUrl: h.webhookUrl,
    token: TEST_TOKEN,
    durationSeconds: 1,
    rate: CONFERENCES,
    badShare: BAD_SHARE,
    speed: 600,
    seed: SEED,
    duplicateShare: 0.05,
    outOfOrderShare: 0.1,
    conferenceShare: 1,
    concurrency: 16,
  });
  // With a share of 1 every new call is a conference, so the run's conferences are these plans.
  plans = Array.from({ length: CONFERENCES }, (_, i) => planConference(SEED, i, { badShare: BAD_SHARE }));
  const callSids = plans.flatMap((c) => c.calls.map((call) => call.callSid));
  await receiver.waitFor(
    () =>
      callSids.every((sid) => receiver.spans().some(isCallRoot(sid))) &&
      plans.every((c) =>
        receiver.spans().some((s) => s.traceId === hex(c.conferenceSid) && s.parentSpanId === undefined),
      ),
    30_000,
  );
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await receiver?.close();
});

test('the run delivered every event and the plans are its conferences', () => {
  assert.deepEqual(report.http.byStatus, { '200': report.events.deliveries });
  assert.equal(report.conferences.started, CONFERENCES);
  assert.equal(
    report.conferences.legs,
    plans.reduce((n, c) => n + c.calls.length, 0),
  );
  assert.deepEqual(plans.map((c) => c.participants.length).sort(), [1, 2, 3, 4]);
});

test('one conference trace per conference: a root and one participant span per leg, each linked to its call trace and back', () => {
  const spans = receiver.spans();
  for (const c of plans) {
    const inTrace = spans.filter((s) => s.traceId === hex(c.conferenceSid));
    const root = oneSpan(inTrace, `root of ${c.conferenceSid}`, (s) => s.parentSpanId === undefined);
    assert.equal(root.name, 'twilio.voice.conference');
    const participantSpans = inTrace.filter((s) => s.name === 'twilio.voice.conference.participant');
    assert.equal(participantSpans.length, c.participants.length, c.conferenceSid);
    assert.equal(inTrace.length, 1 + c.participants.length, 'no late span: every leg came before it was finalised');
    for (const p of c.participants) {
      const span = oneSpan(
        participantSpans,
        `${p.label} span`,
        (s) => s.attributes['twilio.participant_sid'] === p.participantSid,
      );
      assert.equal(span.parentSpanId, root.spanId);
      const callRoot = oneSpan(spans, `call root of the ${p.label}`, isCallRoot(p.call.callSid));
      const legLinks = span.links.filter((l) => l.attributes['twilio.link.kind'] === 'conference_leg');
      assert.equal(legLinks.length, 1);
      assert.ok(pointsAt(legLinks[0], callRoot), `${p.label}: participant span -> its call's root span`);
      assert.ok(
        callRoot.links.some((l) => pointsAt(l, span)),
        `${p.label}: the call's root span -> its participant span`,
      );
      if (p.isCoach) {
        const agent = c.participants.find((x) => x.label === 'agent');
        const coached = span.links.filter((l) => l.attributes['twilio.link.kind'] === 'coached_call');
        assert.equal(coached.length, 1);
        assert.ok(pointsAt(coached[0], spans.find(isCallRoot(agent?.call.callSid ?? ''))), 'coach -> agent call');
      }
    }
  }
  assert.ok(
    plans.some((c) => c.participants.length === 3 && c.participants.some((p) => p.isCoach)),
    'a three-leg conference with a coach',
  );
});

test('the agent dial that never joined is a call trace of its own, linked to nothing', () => {
  const failed = plans.find((c) => c.status === 'not_started');
  const dial = failed?.calls.find((call) => !failed.participants.some((p) => p.call === call));
  assert.ok(dial);
  const root = oneSpan(receiver.spans(), 'failed dial root', isCallRoot(dial.callSid));
  assert.deepEqual(root.links, []);
});
