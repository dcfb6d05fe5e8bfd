// Issue 14's "done when", end to end: the BUILT exporter (node dist/main.js serve, a child process with
// its embedded store) receives webhooks signed exactly as Twilio signs them for a three-leg conference
// (three calls with their call events and complete summaries, three participant summaries, the partial
// and the complete conference summary), delivered out of order with a retried body and a leg re-sent
// under a new CloudEvent id, and exports to a real OTLP/HTTP receiver. The receiver must get exactly one
// conference trace whose three participant spans link to the three call traces' root spans, and each
// call root must link back to its participant span.
// The outbox ships in commit order, so once the call root spans (committed last) have arrived, anything
// committed before them has arrived too: no sleeping to prove that nothing more comes.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { oneSpan, pointsAt } from '../support/span-links.js';
import type { IngestReport } from '../../src/pipeline/ingest.js';
import { ensureBuilt, signedPost, spawnExporter, type ChildExporter } from '../support/child.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../support/otlp-receiver.js';
import {
  conferenceTraceId,
  legCall,
  legParticipantSid,
  legTraceId,
  threeLegConference,
  withFreshId,
  type Leg,
} from '../support/conference-traffic.js';

type CloudEvent = Record<string, unknown>;

const TOKEN = 'conference-e2e-token-8a1f3c5e';

let receiver: OtlpReceiver;
let exporter: ChildExporter;

beforeAll(async () => {
  await ensureBuilt();
  receiver = await startOtlpReceiver();
  exporter = await spawnExporter({
    env: {
      TWILIO_AUTH_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    },
  });
});

afterAll(async () => {
  await exporter?.kill();
  await receiver?.close();
});

async function post(events: readonly CloudEvent[]): Promise<IngestReport> {
  const res = await signedPost(exporter.webhookUrl, TOKEN, Buffer.from(JSON.stringify(events)));
  assert.equal(res.status, 200, res.text);
  return res.json as IngestReport;
}

test('one conference trace whose three participant spans link to the three call traces, and back', async () => {
  const c = threeLegConference('e2e-conference');
  const [, agent, supervisor] = c.legs;
  const [pCustomer, pAgent, pSupervisor] = c.participants;
  const calls = c.legs.map(legCall);
  const callEvents = calls.map(([event]) => event).filter((e): e is CloudEvent => e !== undefined);
  const callSummaries = calls.map(([, summary]) => summary).filter((e): e is CloudEvent => e !== undefined);
  assert.equal(callEvents.length, 3);
  assert.equal(callSummaries.length, 3);

  // Out of order: a leg and the calls' events, then the complete conference summary before the other
  // legs, the partial after it; the second body is retried as is, a leg is re-sent under a new id; the
  // calls' complete summaries last.
  assert.deepEqual(await post([pAgent, ...callEvents]), { accepted: 4, duplicate: 0, invalid: 0, unknown_type: 0 });
  const second = [c.complete, pSupervisor];
  assert.deepEqual(await post(second), { accepted: 2, duplicate: 0, invalid: 0, unknown_type: 0 });
  assert.deepEqual(await post([pCustomer, c.partial]), { accepted: 2, duplicate: 0, invalid: 0, unknown_type: 0 });
  assert.deepEqual(await post(second), { accepted: 0, duplicate: 2, invalid: 0, unknown_type: 0 });
  assert.deepEqual(await post([withFreshId(pCustomer)]), { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 0 });
  assert.deepEqual(await post(callSummaries), { accepted: 3, duplicate: 0, invalid: 0, unknown_type: 0 });

  const callRootOf = (leg: Leg) => (s: OtlpSpan) =>
    s.traceId === legTraceId(leg) && s.name === 'twilio.voice.call' && s.parentSpanId === undefined;
  await receiver.waitFor(() => c.legs.every((leg) => receiver.spans().some(callRootOf(leg))), 30_000);
  const spans = receiver.spans();

  // Exactly one conference trace: its root and three participant spans, nothing else (no late span
  // from the retried body or the re-sent leg), and the three call traces with their root span only.
  const conferenceSpans = spans.filter((s) => s.traceId === conferenceTraceId(c.sid));
  assert.deepEqual(
    conferenceSpans.map((s) => s.name).sort(),
    [
      'twilio.voice.conference',
      'twilio.voice.conference.participant',
      'twilio.voice.conference.participant',
      'twilio.voice.conference.participant',
    ],
    exporter.stdout(),
  );
  assert.equal(spans.filter((s) => s.name === 'twilio.voice.conference').length, 1, 'one conference root in all');
  assert.equal(spans.length, 4 + 3, 'the conference trace and one root span per call');
  const root = oneSpan(conferenceSpans, 'conference root', (s) => s.parentSpanId === undefined);
  assert.equal(root.attributes['twilio.conference.summary.state'], 'complete');
  assert.equal(root.attributes['twilio.conference.participants_reported'], 3);

  for (const leg of c.legs) {
    const callRoot = oneSpan(spans, `call root of ${leg.name}`, callRootOf(leg));
    const participant = oneSpan(
      conferenceSpans,
      `participant span of ${leg.name}`,
      (s) => s.attributes['twilio.participant_sid'] === legParticipantSid(leg),
    );
    assert.equal(participant.parentSpanId, root.spanId);
    const legLinks = participant.links.filter((l) => l.attributes['twilio.link.kind'] === 'conference_leg');
    assert.equal(legLinks.length, 1);
    assert.ok(pointsAt(legLinks[0], callRoot), `${leg.name}: the participant span links to its call's root span`);
    assert.equal(callRoot.links.length, 1);
    assert.ok(pointsAt(callRoot.links[0], participant), `${leg.name}: the call root links to its participant span`);
  }
  // The three participant spans link to three different call traces.
  const linkedTraces = conferenceSpans.flatMap((s) =>
    s.links.filter((l) => l.attributes['twilio.link.kind'] === 'conference_leg').map((l) => l.traceId),
  );
  assert.deepEqual(linkedTraces.sort(), c.legs.map((leg) => legTraceId(leg)).sort());
  // The supervisor coached the agent: a second link, to the agent's call.
  const coach = oneSpan(
    conferenceSpans,
    'supervisor span',
    (s) => s.attributes['twilio.participant_sid'] === legParticipantSid(supervisor),
  );
  const coached = coach.links.filter((l) => l.attributes['twilio.link.kind'] === 'coached_call');
  assert.equal(coached.length, 1);
  assert.ok(pointsAt(coached[0], oneSpan(spans, 'agent call root', callRootOf(agent))));
});
