// Turns the state store's bounds into readiness: at STORE_MAX_BYTES, at the outbox bound
// (TRACE_QUEUE_MAX_SPANS), or while commits fail (disk full, store unwritable), the webhook answers
// 503 with Retry-After (Twilio retries for 4 h) and /readyz says why; never a 4xx, which Twilio would
// take as "drop the event". Conditions clear by themselves when room returns.
import type { Readiness } from './readiness.js';

export interface StoreCountsView {
  dedupIds: number;
  pendingCalls: number;
  outboxEntries: number;
  outboxSpans: number;
  bytes: number;
}

export interface BackpressureOptions {
  readiness: Readiness;
  counts: () => Promise<StoreCountsView>;
  /** The counts now, without waiting (checked before every request). */
  countsNow: () => StoreCountsView;
  maxBytes: number;
  maxOutboxSpans: number;
  /** Tries a commit again (what the last failed flush left staged) while commits fail. */
  probe: () => void | Promise<void>;
  /** Frees room while at STORE_MAX_BYTES (compaction: expired rows out, the write-ahead log truncated). */
  relieve: () => unknown;
}

export class Backpressure {
  private failing = false;
  private last: StoreCountsView = { dedupIds: 0, pendingCalls: 0, outboxEntries: 0, outboxSpans: 0, bytes: 0 };

  constructor(private readonly opts: BackpressureOptions) {}

  /** The counts as of the last refresh (self-metrics read these synchronously). */
  get counts(): StoreCountsView {
    return this.last;
  }

  async refresh(): Promise<void> {
    if (this.failing) await this.opts.probe();
    if (this.last.bytes >= this.opts.maxBytes) await this.opts.relieve();
    this.evaluate(await this.opts.counts());
  }

  /** Re-evaluates the bounds from the counts now; Readiness runs this before every answer. */
  check(): void {
    this.evaluate(this.opts.countsNow());
  }

  private evaluate(c: StoreCountsView): void {
    this.last = c;
    const { readiness } = this.opts;
    if (c.bytes >= this.opts.maxBytes) {
      readiness.set('store_full', `state store holds ${c.bytes} bytes, at STORE_MAX_BYTES (${this.opts.maxBytes})`);
    } else readiness.clear('store_full');
    if (c.outboxSpans >= this.opts.maxOutboxSpans) {
      readiness.set(
        'outbox_full',
        `${c.outboxSpans} spans wait for export, at TRACE_QUEUE_MAX_SPANS (${this.opts.maxOutboxSpans}): is the trace backend reachable?`,
      );
    } else readiness.clear('outbox_full');
  }

  /** Told after every group commit. */
  onFlush(error: unknown): void {
    this.failing = error !== undefined;
    if (error === undefined) this.opts.readiness.clear('store_unwritable');
    else this.opts.readiness.set('store_unwritable', `state store cannot commit: ${describe(error)}`);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? err.code : err.message;
  return 'unknown error';
}
