// Restarts on the same DATA_DIR (DESIGN section 6: "SIGTERM ... leaves open calls in the store";
// dedup ids are remembered >= 5 h; one root span per call, whichever process finalises it).
// The BUILT exporter runs as a child process with the embedded store; requests are signed exactly as
// Twilio signs them; traces go to a real OTLP/HTTP receiver (http/json here).
//
// Before the restart: two calls get call events, metrics and partial summaries but no complete summary
// (open calls); a third call is completed (its root span is exported). SIGTERM, restart. Then:
// - the open calls' complete summaries (and one more call event) arrive: one trace per call whose root
//   span holds every call event from both sides of the restart, exactly once;
// - the third call's complete summary is sent again under a new CloudEvent id: answered 2xx, no second
//   root span, counted as ignored late data;
// - a request captured before the restart is replayed byte for byte (same ids, same signature):
//   answered 2xx with every event a duplicate, counted as such on /metrics, and nothing reaches the
//   receiver (an event of a finalised call would otherwise become a late span).
// The outbox ships entries in commit order, so once the open calls' root spans (committed last) have
// arrived, anything committed before them would have arrived too: no sleeping to prove an absence.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import type { IngestReport } from '../../src/pipeline/ingest.js';
import { ensureBuilt } from '../support/child.js';
import { sampleSum } from '../support/prom.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { type RestartableExporter, sendSigned, signForPublicUrl, type SignedRequest } from '../support/restartable.js';
import { tracingExporter } from '../support/traced-exporter.js';
import {
  auditSpans,
  body,
  byTrace,
  simCall,
  callsProblems,
  withNewId,
  type CloudEvent,
} from '../support/call-traffic.js';

const TOKEN = 'restart-test-token-4c8d2e1f';
const SEED = 7_311;

let receiver: OtlpReceiver;
let exporter: RestartableExporter;

beforeAll(async () => {
  await ensureBuilt();
  receiver = await startOtlpReceiver();
  exporter = await tracingExporter(TOKEN, receiver, {
    LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
  });
});

afterAll(async () => {
  await exporter?.dispose();
  await receiver?.close();
});

async function post(events: readonly CloudEvent[]): Promise<{ request: SignedRequest; report: IngestReport }> {
  const request = signForPublicUrl(TOKEN, body(events));
  const answer = await sendSigned(exporter.origin, request);
  assert.equal(answer.status, 200, answer.text);
  return { request, report: answer.json as IngestReport };
}

/** Sends events in bodies of up to three, like Twilio's batches; returns the first request as sent. */
async function postAll(events: readonly CloudEvent[]): Promise<SignedRequest | undefined> {
  let first: SignedRequest | undefined;
  for (let i = 0; i < events.length; i += 3) {
    const { request, report } = await post(events.slice(i, i + 3));
    assert.equal(report.accepted, Math.min(3, events.length - i));
    first ??= request;
  }
  return first;
}

test('open calls survive SIGTERM; repeated summaries and replayed requests change nothing after a restart', async () => {
  // Calls with at least two call events, so one can be held back until after the restart.
  const candidates = Array.from({ length: 40 }, (_, i) => simCall(SEED, i)).filter((c) => c.callEvents.length >= 2);
  const [open1, open2, done] = candidates;
  assert.ok(open1 !== undefined && open2 !== undefined && done !== undefined);
  const afterRestartEvent = open1.callEvents[open1.callEvents.length - 1];
  assert.ok(afterRestartEvent !== undefined);

  // --- first run ---------------------------------------------------------------------------------
  await exporter.startReady();
  await postAll([...open1.callEvents.slice(0, -1), ...open1.metrics, ...open1.partials]);
  await postAll([...open2.callEvents, ...open2.metrics, ...open2.partials]);
  const captured = await postAll(done.callEvents);
  assert.ok(captured !== undefined);
  const capturedEvents = JSON.parse(captured.body.toString('utf8')) as CloudEvent[];
  await post([done.complete]);
  await receiver.waitFor(() => receiver.spans().some((s) => s.traceId === done.traceId), 15_000);
  assert.equal(await pollMetric('voice_insights_exporter_calls_in_flight', (v) => v === 2), 2);
  const spansBefore = receiver.spans().length;
  assert.equal(spansBefore, 1, 'only the completed call has a trace before the restart');

  const exit = await exporter.terminate();
  assert.deepEqual(exit, { code: 0, signal: null }, exporter.logs());
  assert.match(exporter.logs(), /"msg":"stopped"/);

  // --- second run on the same DATA_DIR -----------------------------------------------------------
  await exporter.startReady();
  // The open calls are still pending (the gauge is refreshed every second).
  const pendingAfterRestart = await pollMetric('voice_insights_exporter_calls_in_flight', (v) => v === 2);
  assert.equal(pendingAfterRestart, 2, 'both open calls are pending after the restart');

  // A captured request replayed byte for byte: same ids, same signature -> 2xx, all duplicates.
  const replay = await sendSigned(exporter.origin, captured);
  assert.equal(replay.status, 200, replay.text);
  assert.deepEqual(replay.json, { accepted: 0, duplicate: capturedEvents.length, invalid: 0, unknown_type: 0 });

  // The completed call's summary again under a new CloudEvent id: accepted, but no second root span.
  const again = await post([withNewId(done.complete, 'resent-after-restart')]);
  assert.deepEqual(again.report, { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 0 });

  // The open calls: one more call event, then their complete summaries.
  await post([afterRestartEvent]);
  await post([open1.complete]);
  await post([open2.complete]);
  await receiver.waitFor(() => {
    const roots = new Set(
      receiver
        .spans()
        .filter((s) => s.parentSpanId === undefined)
        .map((s) => s.traceId),
    );
    return roots.has(open1.traceId) && roots.has(open2.traceId);
  }, 15_000);

  const spans = receiver.spans();
  const audit = auditSpans(spans);
  assert.equal(audit.duplicateSpans, 0, 'no span was exported twice (no crash here)');
  const traces = byTrace(audit.unique);
  const problems = callsProblems([open1, open2, done], traces, { complete: true });
  assert.deepEqual(problems, []);
  assert.equal(spans.length, 3, 'exactly one span per call: no late span, no second root span');
  for (const c of [open1, open2]) {
    const root = traces.get(c.traceId)?.roots[0];
    assert.equal(root?.attributes['twilio.finalised_by'], 'complete');
  }

  const metrics = await exporter.scrape();
  const duplicates = sampleSum(metrics, 'voice_insights_exporter_events_total', { outcome: 'duplicate' });
  assert.equal(duplicates, capturedEvents.length, 'the replayed events are counted as duplicates');
  assert.equal(
    sampleSum(metrics, 'voice_insights_exporter_late_data_total', { kind: 'call-summary', outcome: 'ignored' }),
    1,
    'the repeated complete summary is ignored late data',
  );
  assert.equal(sampleSum(metrics, 'voice_insights_exporter_late_data_total', { outcome: 'late_span' }), 0);
  assert.equal(sampleSum(metrics, 'voice_insights_exporter_traces_finalised_total', { reason: 'complete' }), 2);
  // Once-per-call metrics for the two calls finalised by this process only.
  assert.equal(sampleSum(metrics, 'twilio_voice_calls_total'), 2);
}, 90_000);

async function pollMetric(name: string, ok: (v: number) => boolean, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await exporter.metric(name);
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
