// The span shipper drains the durable outbox: an entry leaves only once the backend accepted it, was
// given up (counted) or quarantined (counted); one entry the backend will never take blocks nothing.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { SpanData } from '../../src/calls/span-data.js';
import { ManualClock } from '../../src/clock.js';
import { MemoryPersistence } from '../../src/store/memory-persistence.js';
import { StagedStore } from '../../src/store/staged-store.js';
import type { OutboxPort } from '../../src/telemetry/outbox-port.js';
import { SpanShipper } from '../../src/telemetry/span-shipper.js';
import { ATTRIBUTE_VALUE_MAX_CHARS } from '../../src/telemetry/to-otlp-span.js';

const span = (n: number, attributes: SpanData['attributes'] = {}): SpanData => ({
  traceId: '0de4d68035f5f8c77773b0db2daad3fa',
  spanId: n.toString(16).padStart(16, '0'),
  parentSpanId: undefined,
  name: 'twilio.voice.call',
  startMs: Date.UTC(2026, 10, 24, 10),
  endMs: Date.UTC(2026, 10, 24, 10, 2, 30, 250),
  attributes: { 'twilio.call_sid': 'CA0de4d68035f5f8c77773b0db2daad3fa', ...attributes },
  events: [{ name: 'call.connected', timeMs: Date.UTC(2026, 10, 24, 10, 0, 8), attributes: {} }],
  droppedEvents: 0,
  status: { code: 'error', message: 'call failed: SIP 486' },
});

/** A backend answering each request with `answer(spans, n)`: an HTTP status, 200 = accepted. */
function backend(answer: (spans: ReadableSpan[], n: number) => number): SpanExporter & { received: ReadableSpan[][] } {
  const received: ReadableSpan[][] = [];
  return {
    received,
    export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
      received.push(spans);
      const status = answer(spans, received.length - 1);
      if (status === 200) return done({ code: ExportResultCode.SUCCESS });
      // What the OTLP/HTTP exporter reports: an OTLPExporterError carrying the HTTP status as `code`.
      done({ code: ExportResultCode.FAILED, error: Object.assign(new Error(`status ${status}`), { code: status }) });
    },
    shutdown: () => Promise.resolve(),
  };
}

function rig(
  exporter: SpanExporter | undefined,
  opts: { giveUpAfterMs?: number; mayDrain?: () => Promise<boolean>; outbox?: OutboxPort } = {},
) {
  const clock = new ManualClock();
  const counts = { failures: 0, gave_up: 0, rejected: 0 };
  const store = new StagedStore(new MemoryPersistence(), { clock, dedupTtlMs: 1, tombstoneTtlMs: 1 });
  const shipper = new SpanShipper({
    outbox: opts.outbox ?? store,
    mayDrain: opts.mayDrain,
    resource: resourceFromAttributes({ 'service.name': 'voice-insights-exporter' }),
    exporter,
    retryInitialMs: 1,
    retryMaxMs: 5,
    giveUpAfterMs: opts.giveUpAfterMs ?? 60_000,
    now: () => clock.now(),
    onExportFailure: () => counts.failures++,
    onDropped: (reason, n) => (counts[reason] += n),
  });
  let n = 0;
  /** Commits one outbox entry, as a call's finalisation does. */
  const put = async (...spans: SpanData[]) => {
    const tx = store.begin();
    const sid = `CA${String(n++).padStart(32, '0')}`;
    await tx.update(sid, () => ({ next: undefined, outbox: spans, result: undefined }));
    await tx.commit();
  };
  return { clock, counts, store, shipper, put };
}

test('spans keep their ids, times, events and status; a refused batch is retried until accepted, then leaves the outbox', async () => {
  const b = backend((_, n) => (n < 2 ? 503 : 200));
  const { counts, store, shipper, put } = rig(b);
  await put(span(1));
  await shipper.flush(5_000);
  assert.equal(counts.failures, 2);
  assert.equal(b.received.length, 3);
  const sent = b.received[2]?.[0];
  assert.ok(sent);
  assert.equal(sent.spanContext().spanId, '0000000000000001');
  assert.deepEqual(sent.startTime, [Date.UTC(2026, 10, 24, 10) / 1000, 0]);
  assert.deepEqual(sent.endTime, [Date.UTC(2026, 10, 24, 10, 2, 30) / 1000, 250_000_000]);
  assert.equal(sent.events[0]?.name, 'call.connected');
  assert.deepEqual(sent.status, { code: 2, message: 'call failed: SIP 486' });
  assert.deepEqual(await store.size(), { entries: 0, spans: 0 });
  await shipper.shutdown();
});

test('an entry the backend refuses outright (413) is found by splitting and quarantined; every other entry arrives', async () => {
  const poison = span(99, { 'twilio.poison': true });
  const b = backend((spans) => (spans.some((s) => s.attributes['twilio.poison'] === true) ? 413 : 200));
  const { counts, store, shipper, put } = rig(b);
  await put(span(1));
  await put(span(2), span(3));
  await put(poison);
  await put(span(4));
  shipper.notify();
  await shipper.flush(5_000);
  const delivered = b.received
    .filter((batch) => !batch.some((s) => s.attributes['twilio.poison'] === true))
    .flat()
    .map((s) => s.spanContext().spanId);
  assert.deepEqual(delivered.sort(), ['0000000000000001', '0000000000000002', '0000000000000003', '0000000000000004']);
  assert.equal(counts.rejected, 1);
  assert.equal(counts.gave_up, 0);
  assert.deepEqual(await store.size(), { entries: 0, spans: 0 });
  await shipper.shutdown();
});

test('an entry waiting longer than the give-up age while the backend fails is counted as gave_up, not kept forever', async () => {
  const b = backend(() => 503);
  const { clock, counts, store, shipper, put } = rig(b, { giveUpAfterMs: 1000 });
  await put(span(1), span(2));
  await assert.rejects(shipper.flush(200), /did not drain/);
  assert.ok(b.received.length >= 2, 'retried while the backend refuses');
  assert.equal(counts.gave_up, 0, 'still within the give-up time');
  assert.deepEqual(await store.size(), { entries: 1, spans: 2 });
  clock.advance(1001);
  await shipper.flush(5_000);
  assert.equal(counts.gave_up, 2);
  assert.deepEqual(await store.size(), { entries: 0, spans: 0 });
  await shipper.shutdown();
});

test('attribute values are capped at the OTel attribute length limit (a 1 MB SDK error message)', async () => {
  const b = backend(() => 200);
  const { shipper, put } = rig(b);
  await put(span(1, { 'twilio.error.message': 'x'.repeat(1_000_000), 'twilio.tags': ['y'.repeat(10_000)] }));
  await shipper.flush(5_000);
  const sent = b.received[0]?.[0];
  assert.ok(sent);
  assert.equal(String(sent.attributes['twilio.error.message']).length, ATTRIBUTE_VALUE_MAX_CHARS);
  assert.deepEqual(sent.attributes['twilio.tags'], ['y'.repeat(ATTRIBUTE_VALUE_MAX_CHARS)]);
  await shipper.shutdown();
});

test('with a shared store only the lease holder drains; a replica without the lease leaves the outbox alone and flush does not wait for it', async () => {
  const b = backend(() => 200);
  let held = false;
  const { store, shipper, put } = rig(b, { mayDrain: () => Promise.resolve(held) });
  await put(span(1));
  await shipper.flush(1_000);
  assert.equal(b.received.length, 0);
  assert.deepEqual(await store.size(), { entries: 1, spans: 1 });
  held = true;
  shipper.notify();
  await shipper.flush(5_000);
  assert.equal(b.received.length, 1);
  assert.deepEqual(await store.size(), { entries: 0, spans: 0 });
});

test('an outbox that fails (a shared store out of reach) is retried later, without an unhandled rejection', async () => {
  const b = backend(() => 200);
  const real = new StagedStore(new MemoryPersistence(), { clock: new ManualClock(), dedupTtlMs: 1, tombstoneTtlMs: 1 });
  let failed = 0;
  const outbox: OutboxPort = {
    peek: (max, after) =>
      failed < 2 ? Promise.reject(new Error(`Redis store unavailable (${++failed})`)) : real.peek(max, after),
    ack: (seqs) => real.ack(seqs),
    size: () => real.size(),
  };
  const { shipper } = rig(b, { outbox });
  const tx = real.begin();
  await tx.update('CA' + '0'.repeat(32), () => ({ next: undefined, outbox: [span(7)], result: undefined }));
  await tx.commit();
  shipper.notify();
  await shipper.flush(5_000);
  assert.equal(failed, 2);
  assert.equal(b.received.length, 1);
});

test('traces switched off: an in-process outbox is emptied, a shared one (drained under a lease) is left to the replicas that export', async () => {
  const own = rig(undefined);
  await own.put(span(1));
  own.shipper.notify();
  await own.shipper.flush(5_000);
  assert.deepEqual(await own.store.size(), { entries: 0, spans: 0 });
  await own.shipper.shutdown();

  let asked = 0;
  const shared = rig(undefined, { mayDrain: () => Promise.resolve(++asked > 0) });
  await shared.put(span(2));
  shared.shipper.notify();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await shared.store.size(), { entries: 1, spans: 1 }, 'another replica exports these');
  assert.equal(asked, 0, 'does not even take the drain lease');
  await shared.shipper.stop();
});

test('drainOrFail (replay) stops at the first failed attempt instead of backing off, says why, and leaves the entries in the outbox', async () => {
  let refuse = true;
  const b = backend(() => (refuse ? 503 : 200));
  const { counts, store, shipper, put } = rig(b);
  await put(span(1), span(2));
  await put(span(3));
  const failed = await shipper.drainOrFail();
  assert.deepEqual(failed, { state: 'failing', waitingSpans: 3, failure: { code: 503, message: 'status 503' } });
  assert.equal(b.received.length, 1, 'one attempt, no retries');
  assert.equal(counts.gave_up, 0);
  assert.deepEqual(await store.size(), { entries: 2, spans: 3 });
  refuse = false;
  assert.deepEqual(await shipper.drainOrFail(), { state: 'drained' });
  assert.deepEqual(shipper.stats(), { exported: 3, dropped: 0, discarded: 0, failedAttempts: 1 });
  await shipper.shutdown();
});

test('drainOrFail reports a network error by its code and message (an AggregateError from a name with two addresses too)', async () => {
  const refused = Object.assign(
    new AggregateError(
      [new Error('connect ECONNREFUSED ::1:4318'), new Error('connect ECONNREFUSED 127.0.0.1:4318')],
      '',
    ),
    { code: 'ECONNREFUSED' },
  );
  const exporter: SpanExporter = {
    export: (_spans, done) => done({ code: ExportResultCode.FAILED, error: refused }),
    shutdown: () => Promise.resolve(),
  };
  const { shipper, put } = rig(exporter);
  await put(span(1));
  assert.deepEqual(await shipper.drainOrFail(), {
    state: 'failing',
    waitingSpans: 1,
    failure: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED ::1:4318; connect ECONNREFUSED 127.0.0.1:4318' },
  });
  await shipper.shutdown();
});

test('drainOrFail with traces off empties an in-process outbox (counted as discarded) and leaves a shared one to the replicas', async () => {
  const own = rig(undefined);
  await own.put(span(1), span(2));
  assert.deepEqual(await own.shipper.drainOrFail(), { state: 'drained' });
  assert.equal(own.shipper.stats().discarded, 2);
  const shared = rig(undefined, { mayDrain: () => Promise.resolve(true) });
  await shared.put(span(3));
  assert.deepEqual(await shared.shipper.drainOrFail(), { state: 'elsewhere', waitingSpans: 1 });
  assert.deepEqual(await shared.store.size(), { entries: 1, spans: 1 });
});

test('flush on a stopped shipper fails at once instead of waiting out its timeout', async () => {
  const b = backend(() => 503);
  const { shipper, put } = rig(b);
  await put(span(1));
  await shipper.stop();
  const started = Date.now();
  await assert.rejects(shipper.flush(60_000), /stopped with 1 spans waiting/);
  assert.ok(Date.now() - started < 5_000);
});
