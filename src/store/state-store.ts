// What the composition root needs of a state store, whichever implementation STORE_URL selects: the
// ports the pipeline, the call assembler and the span shipper declare, plus counts and lifecycle.
import type { CallIndex, CallTx, LeasePort } from '../calls/ports.js';
import type { IngestTx, TxSource } from '../pipeline/ports.js';
import type { OutboxPort } from '../telemetry/outbox-port.js';

export type StoreTx = IngestTx & CallTx;

export interface StoreCounts {
  dedupIds: number;
  pendingCalls: number;
  outboxEntries: number;
  outboxSpans: number;
  bytes: number;
}

export interface StateStore extends TxSource<StoreTx>, CallIndex, LeasePort, OutboxPort {
  /** True when a commit survives the process. */
  readonly durable: boolean;
  counts(): Promise<StoreCounts>;
  /** The latest counts without waiting (a remote store answers from a cache refreshed by `counts()`). */
  countsNow(): StoreCounts;
  /** Removes expired dedup ids and tombstones, a bounded number at a time. */
  compact(): number | Promise<number>;
  /** Tries a real write while commits fail, so readiness recovers only when writes work again. */
  probe(): void | Promise<void>;
  close(): void | Promise<void>;
}
