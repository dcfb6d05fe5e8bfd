// The narrow, synchronous storage interface under StagedStore: what a backend that lives in this
// process (plain maps, or SQLite through better-sqlite3) must do. StagedStore adds units of work,
// claims in flight, the shared overlay of staged writes and group commit on top of it.
import type { StoredCall } from '../calls/ports.js';
import type { OutboxEntry } from '../telemetry/outbox-port.js';

export interface CallRow {
  record: StoredCall;
  /** Pending calls: receive time of their last data (drives the idle sweep). */
  lastActivityAt: number | undefined;
  /** Tombstones: when they may be compacted away (end of the late-data window). */
  expiresAt: number | undefined;
}

/** A call row to write; `bodyChanged: false`: only its activity times moved (a metrics sample). */
export interface CallWrite extends CallRow {
  bodyChanged?: boolean;
}

export interface WriteBatch {
  calls: Map<string, CallWrite>;
  claims: { id: string; expiresAt: number }[];
  outboxAdd: OutboxEntry[];
  outboxDelete: number[];
}

export interface Persistence {
  /** True when a write survives the process (WAL on disk); false for process memory. */
  readonly durable: boolean;
  getCall(callSid: string): CallRow | undefined;
  /** An unexpired claim of this CloudEvent id exists. */
  isClaimed(id: string, now: number): boolean;
  /** Pending calls with lastActivityAt < before, least recently active first. */
  idleCalls(before: number, limit: number): string[];
  countPending(): number;
  countClaims(): number;
  /** Oldest outbox entries with seq > afterSeq, until adding one more would pass maxSpans (at least one). */
  outboxPeek(maxSpans: number, afterSeq: number): OutboxEntry[];
  outboxCounts(): { entries: number; spans: number };
  /** Spans in the flushed entry `seq`, undefined when there is no such entry. */
  outboxSpanCount(seq: number): number | undefined;
  maxOutboxSeq(): number;
  /** One atomic, durable write of everything in the batch; throws when it could not be made durable. */
  write(batch: WriteBatch): void;
  /** Deletes expired claims and tombstones (at most `limit` rows); returns how many went. */
  compact(now: number, limit: number): number;
  lease(name: string, holder: string, now: number, ttlMs: number): boolean;
  releaseLease(name: string, holder: string): void;
  /** Bytes the store occupies (files on disk; an estimate for memory). */
  sizeBytes(): number;
  close(): void;
}
