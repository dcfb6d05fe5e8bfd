// Exports finished call spans over OTLP with our own bounded retry queue. The SDK's
// BatchSpanProcessor drops silently when full and cannot tell us whether the backend accepted a
// batch; here every batch is retried with exponential backoff until accepted, and what is finally
// given up (queue full, or retried for too long) is counted, never silently dropped.
// Spans are built as ReadableSpan objects because their times come from Twilio, long past, and their
// ids are derived from the CallSid (https://opentelemetry.io/docs/specs/otel/trace/sdk/#span-exporter).
import { SpanKind, SpanStatusCode, TraceFlags, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { SpanData } from '../calls/span-data.js';
import { VERSION } from '../version.js';

export interface TraceEmitterOptions {
  resource: Resource;
  /** undefined: traces are switched off (OTEL_TRACES_EXPORTER=none). */
  exporter: SpanExporter | undefined;
  maxQueuedSpans: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** A batch failing for longer than this is given up. */
  giveUpAfterMs: number;
  maxBatchSpans?: number;
  now?: () => number;
  onExportFailure: () => void;
  onDropped: (reason: 'queue_full' | 'gave_up', spans: number) => void;
}

export interface TraceEmitter {
  emit(spans: SpanData[]): void;
  /** Spans waiting for export (queued or being retried). */
  queued(): number;
  /** Resolves once everything queued now was exported or given up (bounded by `timeoutMs`). */
  flush(timeoutMs?: number): Promise<void>;
  shutdown(): Promise<void>;
}

interface Pending {
  spans: ReadableSpan[];
  firstFailedAt: number | undefined;
  attempts: number;
}

const SCOPE = { name: 'voice-insights-exporter', version: VERSION };

export function createTraceEmitter(opts: TraceEmitterOptions): TraceEmitter {
  const now = opts.now ?? Date.now;
  const maxBatch = opts.maxBatchSpans ?? 512;
  const queue: Pending[] = [];
  let queuedSpans = 0;
  let exporting = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const idleWaiters: (() => void)[] = [];

  const settleWaiters = () => {
    if (queue.length > 0 || exporting) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const schedule = (delayMs: number) => {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void drain();
    }, delayMs);
    timer.unref();
  };

  async function drain(): Promise<void> {
    if (exporting || opts.exporter === undefined) return;
    const items = takeBatch();
    if (items.length === 0) return settleWaiters();
    exporting = true;
    const spans = items.flatMap((i) => i.spans);
    const result = await exportOnce(opts.exporter, spans);
    exporting = false;
    if (result.code === ExportResultCode.SUCCESS) {
      queuedSpans -= spans.length;
    } else {
      opts.onExportFailure();
      retryLater(items);
    }
    if (queue.length > 0 && queue[0]?.attempts === 0) setImmediate(() => void drain());
    settleWaiters();
  }

  function takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let size = 0;
    while (queue.length > 0 && size < maxBatch) {
      const next = queue.shift();
      if (next === undefined) break;
      batch.push(next);
      size += next.spans.length;
    }
    return batch;
  }

  function retryLater(items: Pending[]): void {
    const t = now();
    let attempts = 0;
    for (const item of items) {
      item.attempts++;
      item.firstFailedAt ??= t;
      if (t - item.firstFailedAt >= opts.giveUpAfterMs) {
        queuedSpans -= item.spans.length;
        opts.onDropped('gave_up', item.spans.length);
        continue;
      }
      attempts = Math.max(attempts, item.attempts);
      queue.unshift(item);
    }
    if (attempts > 0) schedule(backoff(attempts));
  }

  /** Exponential backoff with full jitter's upper half: spread retries, never retry instantly. */
  function backoff(attempts: number): number {
    const base = Math.min(opts.retryMaxMs, opts.retryInitialMs * 2 ** (attempts - 1));
    return base / 2 + (Math.random() * base) / 2;
  }

  return {
    emit(spans) {
      if (opts.exporter === undefined || spans.length === 0 || closed) return;
      if (queuedSpans + spans.length > opts.maxQueuedSpans) {
        opts.onDropped('queue_full', spans.length);
        return;
      }
      queue.push({ spans: spans.map((s) => toReadableSpan(s, opts.resource)), firstFailedAt: undefined, attempts: 0 });
      queuedSpans += spans.length;
      if (timer === undefined) setImmediate(() => void drain());
    },
    queued: () => queuedSpans,
    flush(timeoutMs = 10_000) {
      if (queue.length === 0 && !exporting) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`trace export did not drain within ${timeoutMs} ms (${queuedSpans} spans queued)`)),
          timeoutMs,
        );
        idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
        void drain();
      });
    },
    async shutdown() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await opts.exporter?.shutdown();
    },
  };
}

function exportOnce(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => {
    try {
      exporter.export(spans, resolve);
    } catch (error) {
      resolve({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  });
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

export function toReadableSpan(s: SpanData, resource: Resource): ReadableSpan {
  const context = { traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED };
  const status =
    s.status.code === 'error'
      ? { code: SpanStatusCode.ERROR, ...(s.status.message === undefined ? {} : { message: s.status.message }) }
      : { code: s.status.code === 'ok' ? SpanStatusCode.OK : SpanStatusCode.UNSET };
  return {
    name: s.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => context,
    ...(s.parentSpanId === undefined
      ? {}
      : { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED } }),
    startTime: hrTime(s.startMs),
    endTime: hrTime(s.endMs),
    duration: hrTime(s.endMs - s.startMs),
    status,
    attributes: s.attributes,
    links: [],
    events: s.events.map((e) => ({ name: e.name, time: hrTime(e.timeMs), attributes: e.attributes })),
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: s.droppedEvents,
    droppedLinksCount: 0,
  };
}
