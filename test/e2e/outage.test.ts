// A trace backend outage (DESIGN section 6: "Traces that cannot be exported (backend down) wait in the
// outbox and are retried with backoff and jitter ... What is finally given up is counted and logged").
// The BUILT exporter runs as a child process with the embedded store; the OTLP receiver is told to
// answer 503 (it then keeps nothing), and later 200 again.
//
// 1. The backend answers 503 for a while: finalised traces wait in the outbox (counted on
//    trace_export_queue_spans, export failures counted), survive a SIGKILL and restart in the middle of
//    the outage, and once the backend is back every trace arrives exactly once, late span included.
// 2. With TRACE_EXPORT_GIVE_UP_SECONDS=2 and the backend down longer than that, the waiting spans are
//    given up no earlier than 2 s after they were committed, counted on
//    spans_dropped_total{reason="gave_up"} and logged; when the backend is back they do not come back,
//    and newer traces go out.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import assert from '../support/assert.js';
import { ensureBuilt, waitFor } from '../support/child.js';
import type { OtlpReceiver } from '../support/otlp-receiver.js';
import { type RestartableExporter, sendSigned, signForPublicUrl, sleep } from '../support/restartable.js';
import {
  auditSpans,
  body,
  byTrace,
  simCall,
  callsProblems,
  type CloudEvent,
  type SimCall,
} from '../support/call-traffic.js';
import {
  QUICK_EXPORT_RETRIES,
  runCleanups,
  switchableReceiver,
  tracingExporter,
  type Cleanups,
} from '../support/traced-exporter.js';

const TOKEN = 'outage-test-token-61f0a9e3';
const QUEUE = 'voice_insights_exporter_trace_export_queue_spans';

const cleanups: Cleanups = [];

beforeAll(async () => {
  await ensureBuilt();
});

afterAll(() => runCleanups(cleanups));

function exporterFor(receiver: OtlpReceiver, env: Record<string, string>): Promise<RestartableExporter> {
  return tracingExporter(
    TOKEN,
    receiver,
    { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', ...QUICK_EXPORT_RETRIES, ...env },
    cleanups,
  );
}

async function post(exporter: RestartableExporter, events: readonly CloudEvent[]): Promise<void> {
  const answer = await sendSigned(exporter.origin, signForPublicUrl(TOKEN, body(events)));
  assert.equal(answer.status, 200, answer.text);
}

/** A call's events in Twilio-sized bodies, the complete summary last. */
async function sendCall(exporter: RestartableExporter, call: SimCall, skip: readonly CloudEvent[] = []): Promise<void> {
  const events = [...call.callEvents, ...call.metrics, ...call.partials].filter((e) => !skip.includes(e));
  for (let i = 0; i < events.length; i += 3) await post(exporter, events.slice(i, i + 3));
  await post(exporter, [call.complete]);
}

async function metricReaches(
  exporter: RestartableExporter,
  name: string,
  labels: Record<string, string>,
  value: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await exporter.metric(name, labels);
    if (last === value) return;
    if (Date.now() > deadline)
      throw new Error(`${name}${JSON.stringify(labels)} is ${last}, not ${value}, after ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('trace backend outage', () => {
  test('traces wait in the outbox through a 503 outage and a SIGKILL, then each arrives exactly once', async () => {
    const { receiver, setStatus } = await switchableReceiver(503, cleanups);
    const exporter = await exporterFor(receiver, {});
    const calls = Array.from({ length: 20 }, (_, i) => simCall(9_101, i));
    const lateCall = calls.find((c) => c.callEvents.length >= 2);
    assert.ok(lateCall !== undefined);
    const lateEvent = lateCall.callEvents[0];
    assert.ok(lateEvent !== undefined);

    await exporter.startReady();
    const outageStarted = Date.now();
    for (const call of calls.slice(0, 10)) await sendCall(exporter, call, call === lateCall ? [lateEvent] : []);
    await metricReaches(exporter, QUEUE, {}, 10, 10_000);
    await waitFor('an export attempt answered 503', () => receiver.requests().some((r) => r.status === 503));
    // Counted once an export attempt has given up (after the transport's own retries within its timeout).
    await waitFor(
      'a failed trace export to be counted',
      async () => (await exporter.metric('voice_insights_exporter_export_failures_total', { signal: 'traces' })) > 0,
      { timeoutMs: 10_000, intervalMs: 100 },
    );

    // A crash in the middle of the outage: the waiting spans are in the store, not in memory.
    await exporter.kill('SIGKILL');
    await exporter.startReady();
    await metricReaches(exporter, QUEUE, {}, 10, 10_000);
    for (const call of calls.slice(10)) await sendCall(exporter, call);
    await post(exporter, [lateEvent]); // after its call's root span was committed: a late span
    await metricReaches(exporter, QUEUE, {}, 21, 10_000);
    // Down for at least 3 s in all, so the shipper has backed off several times.
    await sleep(Math.max(0, 3000 - (Date.now() - outageStarted)));
    assert.equal(receiver.spans().length, 0, 'nothing is accepted while the backend answers 503');
    const failedAttempts = receiver.requests().filter((r) => r.status === 503).length;

    setStatus(200);
    const recovered = Date.now();
    await receiver.waitFor(() => receiver.spans().length >= 21, 30_000);
    const recoveryMs = Date.now() - recovered;
    await metricReaches(exporter, QUEUE, {}, 0, 10_000);

    const spans = receiver.spans();
    const audit = auditSpans(spans);
    const traces = byTrace(audit.unique);
    const problems = callsProblems(calls, traces, { complete: true });
    console.info(
      `outage: ${calls.length} traces + 1 late span waited ${((recovered - outageStarted) / 1000).toFixed(1)} s ` +
        `through ${failedAttempts} refused export requests and 1 SIGKILL; all arrived ${recoveryMs} ms after the backend recovered`,
    );
    assert.deepEqual(problems, []);
    assert.equal(spans.length, 21, 'exactly once: 20 root spans and 1 late span, none exported twice');
    assert.equal(traces.get(lateCall.traceId)?.late.length, 1);
    assert.deepEqual(exporter.unexpectedExits, []);
  }, 90_000);

  test('past TRACE_EXPORT_GIVE_UP_SECONDS the waiting spans are given up and counted; they never come back', async () => {
    const { receiver, setStatus } = await switchableReceiver(503, cleanups);
    const exporter = await exporterFor(receiver, { TRACE_EXPORT_GIVE_UP_SECONDS: '2' });
    const calls = Array.from({ length: 6 }, (_, i) => simCall(9_202, i));
    const [marker, ...doomed] = calls;
    assert.ok(marker !== undefined);

    await exporter.startReady();
    for (const call of doomed) await sendCall(exporter, call);
    const lastCommitted = Date.now();
    const dropped = { name: 'voice_insights_exporter_spans_dropped_total', labels: { reason: 'gave_up' } };
    await metricReaches(exporter, dropped.name, dropped.labels, doomed.length, 20_000);
    const gaveUpAfterMs = Date.now() - lastCommitted;
    expect(gaveUpAfterMs).toBeGreaterThanOrEqual(1900);
    await metricReaches(exporter, QUEUE, {}, 0, 5000);
    assert.equal(await exporter.metric('voice_insights_exporter_spans_dropped_total', { reason: 'rejected' }), 0);
    assert.match(exporter.logs(), /spans left the outbox unexported/);
    assert.match(exporter.logs(), /"reason":"gave_up"/);
    console.info(
      `gave up ${doomed.length} spans ${gaveUpAfterMs} ms after the last was committed (TRACE_EXPORT_GIVE_UP_SECONDS=2)`,
    );

    // The backend is back: a new trace goes out; the given-up ones stay gone (the outbox ships in order,
    // so they would have come before the new one).
    setStatus(200);
    await sendCall(exporter, marker);
    await receiver.waitFor(() => receiver.spans().length > 0, 15_000);
    await metricReaches(exporter, QUEUE, {}, 0, 5000);
    assert.deepEqual(
      receiver.spans().map((s) => s.traceId),
      [marker.traceId],
    );
    assert.deepEqual(exporter.unexpectedExits, []);
  }, 90_000);
});
