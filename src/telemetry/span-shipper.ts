// Drains the durable span outbox to the OTLP backend. An entry leaves the outbox only after the
// backend accepted it, was given up (older than TRACE_EXPORT_GIVE_UP_SECONDS while the backend keeps
// failing), or was quarantined (the backend refuses it outright, even alone). The SDK's
// BatchSpanProcessor drops silently when full and cannot say whether a batch was accepted, so it is
// not used (https://opentelemetry.io/docs/specs/otel/trace/sdk/#span-exporter). With traces switched
// off (OTEL_TRACES_EXPORTER=none) entries are discarded as they are committed.
// Retries: the OTLP/HTTP transport itself retries 429/502/503/504 honouring Retry-After within its
// export timeout; past that, this loop backs off exponentially with jitter, up to retryMaxMs.
// A batch refused with a permanent status (400, 413, other 4xx) is split in halves until the one entry
// the backend will never take is found and quarantined, so it blocks nothing behind it.
// With a shared store (several replicas) only the holder of a lease drains (`mayDrain`), so that each
// entry is exported once while nobody crashes; another replica takes over when the holder stops
// renewing it. In-process stores pass no `mayDrain`: their one process always drains.
// One-shot commands (`replay`) use `drainOrFail`, which stops at the first failed attempt instead of
// backing off, and read `stats()` to say what became of the spans.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { OutboxEntry, OutboxPort } from './outbox-port.js';
import { toReadableSpan } from './to-otlp-span.js';

export type DropReason = 'gave_up' | 'rejected';

export interface SpanShipperOptions {
  outbox: OutboxPort;
  resource: Resource;
  /** undefined: traces are switched off (OTEL_TRACES_EXPORTER=none); the outbox is then not drained. */
  exporter: SpanExporter | undefined;
  retryInitialMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
  maxBatchSpans?: number;
  now: () => number;
  random?: () => number;
  onExportFailure: (status: number | undefined) => void;
  onDropped: (reason: DropReason, spans: number, detail: string) => void;
  onExported?: (spans: number) => void;
  /** Takes or renews the drain lease; false while another replica holds it. Unset: always drain. */
  mayDrain?: () => Promise<boolean>;
  /** While a drain runs, the lease is renewed this often too (an export may take longer than its TTL). */
  leaseRenewMs?: number;
}

type Outcome = 'ok' | 'retry';

/** Why the last export attempt failed, as the OTLP/HTTP exporter reported it. */
export interface ExportFailure {
  /** A network error code (ECONNREFUSED, ENOTFOUND, ...), or the HTTP status the backend answered. */
  code: string | number | undefined;
  message: string;
}

/** What `drainOrFail` left behind. */
export type DrainOutcome =
  | { state: 'drained' }
  /** An export attempt (or the outbox itself) failed; the spans wait in the outbox. */
  | { state: 'failing'; waitingSpans: number; failure: ExportFailure }
  /** A shared outbox drained by another replica (it holds the lease, or traces are off here). */
  | { state: 'elsewhere'; waitingSpans: number };

/** Spans by what became of them, since this shipper was built. */
export interface ShipperStats {
  exported: number;
  /** Quarantined (refused outright) or given up: gone, counted in spans_dropped_total. */
  dropped: number;
  /** Traces off: emptied from an in-process outbox without an export attempt. */
  discarded: number;
  /** Export attempts that failed in a way that is retried (network, 5xx, 429, timeouts) or an outbox failure. */
  failedAttempts: number;
}

export class SpanShipper {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopped = false;
  /** The last drain found the lease with another replica: the outbox is not ours to flush. */
  private leaseElsewhere = false;
  private readonly maxBatch: number;
  private readonly counts: ShipperStats = { exported: 0, dropped: 0, discarded: 0, failedAttempts: 0 };
  private lastFailure: ExportFailure | undefined;

  constructor(private readonly opts: SpanShipperOptions) {
    this.maxBatch = opts.maxBatchSpans ?? 512;
  }

  /** New entries were committed: drain now unless a backoff is running. */
  notify(): void {
    if (this.stopped || this.timer !== undefined) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      // The outbox itself failed (a shared store out of reach): try again later, with the same backoff.
      .catch((err: unknown) => {
        this.counts.failedAttempts++;
        this.lastFailure = { code: undefined, message: `the span outbox failed: ${describeError(err)}` };
        this.scheduleRetry(false);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.notify();
        }
      });
  }

  /** Resolves once the outbox is empty (everything exported, given up or quarantined), or rejects after timeoutMs. */
  async flush(timeoutMs = 10_000): Promise<void> {
    const started = Date.now();
    for (;;) {
      const { entries, spans } = await this.opts.outbox.size();
      if (entries === 0 || this.leaseElsewhere) return;
      // Nothing drains a stopped shipper: waiting out the timeout would only delay the caller.
      if (this.stopped) throw new Error(`trace export stopped with ${spans} spans waiting`);
      if (Date.now() - started > timeoutMs) {
        throw new Error(`trace export did not drain within ${timeoutMs} ms (${spans} spans waiting)`);
      }
      await this.attemptNow();
      await new Promise((r) => setTimeout(r, this.attempts === 0 ? 1 : 50));
    }
  }

  /**
   * For one-shot commands (`replay`): drains the outbox like `flush`, but where `flush` would back off
   * and try again, stops at the first export attempt that fails (the OTLP/HTTP exporter has by then
   * retried within its own OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default) and says why. Entries that
   * were not exported stay in the outbox. An attempt already under way when this is called counts.
   */
  async drainOrFail(): Promise<DrainOutcome> {
    const failuresBefore = this.counts.failedAttempts;
    for (;;) {
      const { entries, spans } = await this.opts.outbox.size();
      if (entries === 0) return { state: 'drained' };
      // Traces off on a shared outbox: the replicas that export traces drain it, not this one.
      const notOurs = this.opts.exporter === undefined && this.opts.mayDrain !== undefined;
      if (this.leaseElsewhere || notOurs) return { state: 'elsewhere', waitingSpans: spans };
      if (this.counts.failedAttempts > failuresBefore) {
        return {
          state: 'failing',
          waitingSpans: spans,
          failure: this.lastFailure ?? { code: undefined, message: 'export failed' },
        };
      }
      if (this.stopped) {
        return {
          state: 'failing',
          waitingSpans: spans,
          failure: { code: undefined, message: 'the shipper was stopped' },
        };
      }
      await this.attemptNow();
      // A failed attempt left a backoff timer; it must not start a second attempt before the check
      // above sees the failure (a 1 ms backoff can fire before setImmediate on a loaded machine).
      if (this.counts.failedAttempts > failuresBefore) this.cancelRetry();
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Drains now instead of at the pending backoff, and waits for that attempt (flush, drainOrFail). */
  private async attemptNow(): Promise<void> {
    this.cancelRetry();
    this.notify();
    await (this.running ?? Promise.resolve());
  }

  private cancelRetry(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Spans exported, dropped and discarded so far, and failed attempts. */
  stats(): ShipperStats {
    return { ...this.counts };
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry();
    return this.running ?? Promise.resolve();
  }

  async shutdown(): Promise<void> {
    await this.stop();
    await this.opts.exporter?.shutdown();
  }

  /** Renews the drain lease before each batch (a replica whose lease lapsed stops after its batch). */
  private async mayDrain(): Promise<boolean> {
    if (this.opts.mayDrain === undefined) return true;
    this.leaseElsewhere = !(await this.opts.mayDrain());
    return !this.leaseElsewhere;
  }

  private async drain(): Promise<void> {
    const renewMs = this.opts.leaseRenewMs;
    const keepAlive =
      this.opts.mayDrain !== undefined && renewMs !== undefined
        ? setInterval(() => void this.mayDrain().catch(() => undefined), renewMs)
        : undefined;
    try {
      await this.drainBatches();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async drainBatches(): Promise<void> {
    const exporter = this.opts.exporter;
    if (exporter === undefined) {
      // Traces off: an in-process outbox is ours to empty; a shared one belongs to every replica, and one
      // replica configured without traces must not throw away the others' spans.
      if (this.opts.mayDrain !== undefined) return;
      return this.discard();
    }
    while (!this.stopped) {
      if (!(await this.mayDrain())) return;
      const entries = await this.opts.outbox.peek(this.maxBatch);
      if (entries.length === 0) return;
      const outcome = await this.ship(exporter, entries);
      if (outcome === 'retry') {
        this.counts.failedAttempts++;
        await this.giveUpExpired(entries);
        this.scheduleRetry();
        return;
      }
      this.attempts = 0;
    }
  }

  /** Traces switched off: entries are not kept, or the outbox bound would stop the webhook for nothing. */
  private async discard(): Promise<void> {
    for (;;) {
      const entries = await this.opts.outbox.peek(this.maxBatch);
      if (entries.length === 0) return;
      await this.opts.outbox.ack(entries.map((e) => e.seq));
      this.counts.discarded += entries.reduce((n, e) => n + e.spans.length, 0);
    }
  }

  private async ship(exporter: SpanExporter, entries: readonly OutboxEntry[]): Promise<Outcome> {
    const spans = entries.flatMap((e) => e.spans.map((s) => toReadableSpan(s, this.opts.resource)));
    const result = await exportOnce(exporter, spans);
    if (result.code === ExportResultCode.SUCCESS) {
      await this.opts.outbox.ack(entries.map((e) => e.seq));
      this.counts.exported += spans.length;
      this.lastFailure = undefined;
      this.opts.onExported?.(spans.length);
      return 'ok';
    }
    const status = statusOf(result);
    this.lastFailure = failureOf(result, status);
    this.opts.onExportFailure(status);
    if (!isPermanent(status)) return 'retry';
    if (entries.length > 1) {
      const half = Math.ceil(entries.length / 2);
      if ((await this.ship(exporter, entries.slice(0, half))) === 'retry') return 'retry';
      return this.ship(exporter, entries.slice(half));
    }
    const [entry] = entries;
    if (entry !== undefined) {
      await this.opts.outbox.ack([entry.seq]);
      this.counts.dropped += entry.spans.length;
      this.opts.onDropped('rejected', entry.spans.length, `backend refused the entry with status ${status ?? '?'}`);
    }
    return 'ok';
  }

  /** While the backend keeps failing, entries older than the give-up age leave the outbox, counted. */
  private async giveUpExpired(entries: readonly OutboxEntry[]): Promise<void> {
    const now = this.opts.now();
    const expired = entries.filter((e) => now - e.createdAt >= this.opts.giveUpAfterMs);
    if (expired.length === 0) return;
    await this.opts.outbox.ack(expired.map((e) => e.seq));
    const spans = expired.reduce((n, e) => n + e.spans.length, 0);
    this.counts.dropped += spans;
    this.opts.onDropped(
      'gave_up',
      spans,
      `export failing for longer than ${Math.round(this.opts.giveUpAfterMs / 1000)} s`,
    );
  }

  /** Backs off exponentially after export failures; a store failure retries at the initial delay. */
  private scheduleRetry(escalate = true): void {
    if (this.stopped) return;
    if (escalate) this.attempts++;
    const base = Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** Math.max(0, this.attempts - 1));
    // Jitter over the upper half of the interval: spread replicas' retries, never retry instantly.
    const delay = base / 2 + ((this.opts.random ?? Math.random)() * base) / 2;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.notify();
    }, delay);
    this.timer.unref();
  }
}

function exportOnce(exporter: SpanExporter, spans: Parameters<SpanExporter['export']>[0]): Promise<ExportResult> {
  return new Promise((resolve) => {
    try {
      exporter.export(spans, resolve);
    } catch (error) {
      resolve({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  });
}

/** The HTTP status the OTLP exporter reports in its error (OTLPExporterError.code), when there was one. */
function statusOf(result: ExportResult): number | undefined {
  const code: unknown = result.error !== undefined && 'code' in result.error ? result.error.code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** The failure as the exporter reported it: a network error's code and message, or the HTTP status. */
function failureOf(result: ExportResult, status: number | undefined): ExportFailure {
  const error = result.error;
  if (error === undefined) return { code: status, message: 'export failed' };
  const code: unknown = 'code' in error ? error.code : undefined;
  return { code: typeof code === 'string' ? code : status, message: describeError(error) };
}

/** An error's message; a connection to a name with several addresses (localhost) fails with an AggregateError and no message of its own. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message !== '') return err.message;
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describeError).join('; ');
  const code: unknown = 'code' in err ? err.code : undefined;
  return typeof code === 'string' ? code : err.name;
}

/** 4xx other than 408 (timeout) and 429 (rate limit) will fail the same way again. */
function isPermanent(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}
