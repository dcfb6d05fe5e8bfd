// Bounds (DESIGN section 6: "Bounded: STORE_MAX_BYTES (disk), TRACE_QUEUE_MAX_SPANS (outbox) ... at a
// bound the webhook answers 503 with Retry-After and /readyz is unready with the reason; it recovers by
// itself. Never a 4xx for this."). The BUILT exporter runs as a child process with the embedded store;
// requests are signed as Twilio signs them; a delivery answered 503 is sent again later, as Twilio does,
// and in the end every call's trace holds every call event: nothing refused was lost.
//
// 1. STORE_MAX_BYTES=262144 (an empty store is ~45 KB; each request adds ~30 KB of write-ahead log):
//    after some traffic 503 + Retry-After, /readyz names STORE_MAX_BYTES, the ready gauge is 0. Nothing
//    frees room by itself within the test (compaction runs once a minute), so the exporter is restarted
//    with a larger STORE_MAX_BYTES; the refused deliveries then go through.
// 2. TRACE_QUEUE_MAX_SPANS=10 with the trace backend answering 503: after enough finalised calls the
//    webhook answers 503 and /readyz names TRACE_QUEUE_MAX_SPANS; when the backend is back and the outbox
//    drains, it is ready again by itself (no restart) and the refused deliveries go through.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import assert from '../support/assert.js';
import { ensureBuilt, waitFor } from '../support/child.js';
import type { OtlpReceiver } from '../support/otlp-receiver.js';
import {
  type RestartableExporter,
  sendSigned,
  signForPublicUrl,
  sleep,
  type Answer,
  type SignedRequest,
} from '../support/restartable.js';
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

const TOKEN = 'backpressure-token-2a7f9c41';
const QUEUE = 'voice_insights_exporter_trace_export_queue_spans';

const cleanups: Cleanups = [];

beforeAll(async () => {
  await ensureBuilt();
});

afterAll(() => runCleanups(cleanups));

function exporterWith(receiver: OtlpReceiver, env: Record<string, string>): Promise<RestartableExporter> {
  return tracingExporter(TOKEN, receiver, { ...QUICK_EXPORT_RETRIES, ...env }, cleanups);
}

/** A call's deliveries in order: call events, samples and partials in bodies of up to three, then the complete summary. */
function deliveriesOf(call: SimCall): SignedRequest[] {
  const events = [...call.callEvents, ...call.metrics, ...call.partials];
  const bodies: CloudEvent[][] = [];
  for (let i = 0; i < events.length; i += 3) bodies.push(events.slice(i, i + 3));
  bodies.push([call.complete]);
  return bodies.map((b) => signForPublicUrl(TOKEN, body(b)));
}

/** A 503 for backpressure: Retry-After, a JSON error naming the bound; never a 4xx (Twilio would drop the events). */
function assertBackpressure(answer: Answer, bound: RegExp): void {
  assert.equal(answer.status, 503, answer.text);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  assert.match(answer.text, bound);
}

async function assertUnready(exporter: RestartableExporter, bound: RegExp): Promise<string[]> {
  const ready = await exporter.readyz();
  assert.equal(ready.status, 503);
  assert.equal(ready.body.ready, false);
  const reasons = ready.body.reasons ?? [];
  assert.ok(
    reasons.some((r) => bound.test(r)),
    `a /readyz reason names ${bound.source}: ${JSON.stringify(reasons)}`,
  );
  assert.equal(await exporter.metric('voice_insights_exporter_ready'), 0);
  return reasons;
}

/** Sends each delivery until it is answered 2xx; a 503 is retried (as Twilio does) until `timeoutMs`, anything else fails. */
async function deliverAll(
  exporter: RestartableExporter,
  requests: readonly SignedRequest[],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const request of requests) {
    for (;;) {
      const answer = await sendSigned(exporter.origin, request);
      if (answer.status === 200) break;
      assert.equal(answer.status, 503, answer.text);
      if (Date.now() > deadline) throw new Error(`still 503 after ${timeoutMs} ms: ${answer.text}`);
      await sleep(200);
    }
  }
}

async function waitForTraces(receiver: OtlpReceiver, calls: readonly SimCall[]): Promise<void> {
  await receiver.waitFor(() => {
    const roots = new Set(
      receiver
        .spans()
        .filter((s) => s.parentSpanId === undefined)
        .map((s) => s.traceId),
    );
    return calls.every((c) => roots.has(c.traceId));
  }, 20_000);
  const audit = auditSpans(receiver.spans());
  assert.equal(audit.duplicateSpans, 0);
  const traces = byTrace(audit.unique);
  const problems = callsProblems(calls, traces, { complete: true });
  assert.deepEqual(problems, [], 'every call event of every call, refused at first or not, is in its trace once');
}

describe('backpressure', () => {
  test('STORE_MAX_BYTES: 503 with Retry-After and unready once the store is full; a larger bound lets the refused deliveries in', async () => {
    const { receiver } = await switchableReceiver(200, cleanups);
    const exporter = await exporterWith(receiver, { STORE_MAX_BYTES: String(4 * 65_536) });
    await exporter.startReady();

    // Calls until the first refusal (the bound is checked about once a second, so how many fit varies).
    const calls: SimCall[] = [];
    const pending: SignedRequest[] = [];
    const giveUpAt = Date.now() + 15_000;
    let accepted = 0;
    let refused: Answer | undefined;
    while (refused === undefined && Date.now() < giveUpAt) {
      if (pending.length === 0) {
        const call = simCall(4_401, calls.length);
        calls.push(call);
        pending.push(...deliveriesOf(call));
      }
      const answer = await sendSigned(exporter.origin, pending[0] as SignedRequest);
      if (answer.status !== 200) refused = answer;
      else {
        pending.shift();
        accepted++;
      }
    }
    assert.ok(refused !== undefined, `the store never reached STORE_MAX_BYTES after ${accepted} requests`);
    expect(accepted).toBeGreaterThan(2);
    assertBackpressure(refused, /STORE_MAX_BYTES/);
    const reasons = await assertUnready(exporter, /STORE_MAX_BYTES \(262144\)/);
    console.info(
      `STORE_MAX_BYTES=262144 reached after ${accepted} requests (DATA_DIR ${exporter.dataDirBytes()} bytes); /readyz: ${JSON.stringify(reasons)}`,
    );
    // Twilio's retry while it is still full gets 503 again, never a 4xx. (Compaction every second while
    // full may free room by itself: truncating the write-ahead log; then it accepts again.)
    assertBackpressure(await sendSigned(exporter.origin, pending[0] as SignedRequest), /STORE_MAX_BYTES/);

    // A clean stop while full, then room: a larger bound on the same DATA_DIR.
    assert.deepEqual(await exporter.terminate(), { code: 0, signal: null });
    exporter.setEnv({ STORE_MAX_BYTES: String(64 * 1024 * 1024) });
    const restarted = Date.now();
    await exporter.startReady();
    await deliverAll(exporter, pending);
    console.info(
      `ready again ${Date.now() - restarted} ms after the restart with STORE_MAX_BYTES=64 MiB; the ${pending.length} refused or unsent deliveries of ${calls.length} calls went through`,
    );
    await waitForTraces(receiver, calls);
    assert.deepEqual(exporter.unexpectedExits, []);
  }, 90_000);

  test('TRACE_QUEUE_MAX_SPANS: 503 while the backend is down and the outbox full; ready again by itself once it drains', async () => {
    const { receiver, setStatus } = await switchableReceiver(503, cleanups);
    const exporter = await exporterWith(receiver, { TRACE_QUEUE_MAX_SPANS: '10' });
    const calls = Array.from({ length: 40 }, (_, i) => simCall(4_402, i));
    await exporter.startReady();

    const pending: SignedRequest[] = [];
    let finalised = 0;
    let refused: Answer | undefined;
    for (const call of calls) {
      const deliveries = deliveriesOf(call);
      while (deliveries.length > 0 && refused === undefined) {
        const answer = await sendSigned(exporter.origin, deliveries[0] as SignedRequest);
        if (answer.status === 200) deliveries.shift();
        else refused = answer;
      }
      if (deliveries.length === 0) finalised++;
      pending.push(...deliveries);
      // The bound is checked once a second: give it the chance between calls once the queue is at it.
      if (refused === undefined && finalised >= 10) await sleep(100);
    }
    assert.ok(refused !== undefined, `never refused after ${finalised} finalised calls with the backend down`);
    assertBackpressure(refused, /TRACE_QUEUE_MAX_SPANS/);
    const reasons = await assertUnready(exporter, /TRACE_QUEUE_MAX_SPANS \(10\)/);
    const queued = await exporter.metric(QUEUE);
    expect(queued).toBeGreaterThanOrEqual(10);
    assert.equal(receiver.spans().length, 0);
    await sleep(1200);
    assertBackpressure(await sendSigned(exporter.origin, pending[0] as SignedRequest), /TRACE_QUEUE_MAX_SPANS/);
    console.info(
      `TRACE_QUEUE_MAX_SPANS=10: refused after ${finalised} finalised calls, ${queued} spans waiting; /readyz: ${JSON.stringify(reasons)}`,
    );

    // The backend comes back: the outbox drains and the webhook is ready again, with no restart.
    setStatus(200);
    const recovered = Date.now();
    await waitFor('/readyz to answer 200 again', async () => (await exporter.readyz()).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const readyAfterMs = Date.now() - recovered;
    await deliverAll(exporter, pending);
    await waitForTraces(receiver, calls);
    console.info(
      `ready again ${readyAfterMs} ms after the trace backend recovered; ${pending.length} deliveries then went through`,
    );
    assert.equal(exporter.runs, 1, 'no restart was needed');
    assert.deepEqual(exporter.unexpectedExits, []);
  }, 90_000);
});
