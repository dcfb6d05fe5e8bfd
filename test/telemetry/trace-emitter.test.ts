// The export queue never loses a span silently: what it cannot deliver is counted by reason.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { SpanData } from '../../src/calls/span-data.js';
import { ManualClock } from '../../src/clock.js';
import { createTraceEmitter } from '../../src/telemetry/trace-emitter.js';

const span = (n: number): SpanData => ({
  traceId: '0de4d68035f5f8c77773b0db2daad3fa',
  spanId: n.toString(16).padStart(16, '0'),
  parentSpanId: undefined,
  name: 'twilio.voice.call',
  startMs: Date.UTC(2026, 10, 24, 10),
  endMs: Date.UTC(2026, 10, 24, 10, 2, 30, 250),
  attributes: { 'twilio.call_sid': 'CA0de4d68035f5f8c77773b0db2daad3fa' },
  events: [{ name: 'call.connected', timeMs: Date.UTC(2026, 10, 24, 10, 0, 8), attributes: {} }],
  droppedEvents: 0,
  status: { code: 'error', message: 'call failed: SIP 486' },
});

/** A backend answering the nth request (0-based) with `answer(n)`. */
function backend(answer: (n: number) => ExportResultCode): SpanExporter & { received: ReadableSpan[][] } {
  const received: ReadableSpan[][] = [];
  return {
    received,
    export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
      received.push(spans);
      done({ code: answer(received.length - 1) });
    },
    shutdown: () => Promise.resolve(),
  };
}

function emitter(
  exporter: SpanExporter,
  opts: { maxQueuedSpans?: number; giveUpAfterMs?: number; clock?: ManualClock } = {},
) {
  const counts = { failures: 0, queue_full: 0, gave_up: 0 };
  const clock = opts.clock ?? new ManualClock();
  const e = createTraceEmitter({
    resource: resourceFromAttributes({ 'service.name': 'voice-insights-exporter' }),
    exporter,
    maxQueuedSpans: opts.maxQueuedSpans ?? 100,
    retryInitialMs: 1,
    retryMaxMs: 5,
    giveUpAfterMs: opts.giveUpAfterMs ?? 60_000,
    now: () => clock.now(),
    onExportFailure: () => counts.failures++,
    onDropped: (reason, n) => (counts[reason] += n),
  });
  return { e, counts, clock };
}

test('spans keep their ids, times, events and status; a refused batch is retried until accepted', async () => {
  const b = backend((n) => (n < 2 ? ExportResultCode.FAILED : ExportResultCode.SUCCESS));
  const { e, counts } = emitter(b);
  e.emit([span(1)]);
  await e.flush(5_000);
  assert.equal(counts.failures, 2);
  assert.equal(b.received.length, 3);
  const sent = b.received[2]?.[0];
  assert.ok(sent);
  assert.equal(sent.spanContext().spanId, '0000000000000001');
  assert.deepEqual(sent.startTime, [Date.UTC(2026, 10, 24, 10) / 1000, 0]);
  assert.deepEqual(sent.endTime, [Date.UTC(2026, 10, 24, 10, 2, 30) / 1000, 250_000_000]);
  assert.equal(sent.events[0]?.name, 'call.connected');
  assert.deepEqual(sent.status, { code: 2, message: 'call failed: SIP 486' });
  assert.equal(e.queued(), 0);
  await e.shutdown();
});

test('a full queue refuses new spans and counts them as queue_full', async () => {
  const { e, counts } = emitter(
    backend(() => ExportResultCode.SUCCESS),
    { maxQueuedSpans: 2 },
  );
  e.emit([span(1), span(2)]);
  e.emit([span(3)]);
  assert.equal(counts.queue_full, 1);
  await e.flush(5_000);
  await e.shutdown();
});

test('a batch failing for longer than the give-up time is counted as gave_up, not kept forever', async () => {
  const clock = new ManualClock();
  const b = backend(() => ExportResultCode.FAILED);
  const { e, counts } = emitter(b, { giveUpAfterMs: 1000, clock });
  e.emit([span(1), span(2)]);
  await assert.rejects(e.flush(200), /did not drain/);
  assert.ok(b.received.length >= 2, 'retried while the backend refuses');
  assert.equal(counts.gave_up, 0, 'still within the give-up time');
  assert.equal(e.queued(), 2);
  clock.advance(1001);
  await e.flush(5_000);
  assert.equal(counts.gave_up, 2);
  assert.equal(e.queued(), 0);
  await e.shutdown();
});
