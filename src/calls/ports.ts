// What the call assembler needs of the state store: an atomic per-call update inside a unit of work,
// queries for the idle sweep and the capacity bound, and a lease so one process sweeps at a time.
// Implementations live in src/store/; one contract suite (test/store/contract/) runs against each.
import type { CallState, FinalisedCall } from './call-state.js';
import type { ConferenceState, FinalisedConference } from './conference-state.js';
import type { SpanData } from './span-data.js';

export type CallRecord = { status: 'pending'; state: CallState } | { status: 'finalised'; tombstone: FinalisedCall };
export type ConferenceRecord =
  { status: 'pending'; state: ConferenceState } | { status: 'finalised'; tombstone: FinalisedConference };

/**
 * What the store keeps under one sid: a call (CallSid) or a conference (ConferenceSid). Both share the
 * store's ports, its idle index and its durability; the sids never collide (CA... and CF...).
 */
export type StoredCall = CallRecord | ConferenceRecord;

export function isConferenceRecord(record: StoredCall): record is ConferenceRecord {
  return (record.status === 'pending' ? record.state.kind : record.tombstone.kind) === 'conference';
}

export interface CallChange<R> {
  /** The call's new record; `undefined` leaves it unchanged. */
  next: StoredCall | undefined;
  /** Finished spans to ship: written to the span outbox in the same commit as `next`. */
  outbox?: SpanData[];
  result: R;
}

export interface CallTx {
  /**
   * Atomic read-modify-write of one call's record. `fn` must be pure: a shared store may call it again
   * after a conflicting write. Updates apply each event idempotently (by CloudEvent id), so running one
   * twice, or after a crash, changes nothing.
   */
  update<R>(callSid: string, fn: (current: StoredCall | undefined) => CallChange<R>): Promise<R>;
}

export interface CallIndex {
  /** Pending calls whose last activity is older than `before` (epoch ms), least recently active first. */
  idleCalls(before: number, limit: number): Promise<string[]>;
  /** The least recently active pending call. */
  oldestPending(): Promise<string | undefined>;
  pendingCount(): Promise<number>;
}

export interface LeasePort {
  /** Takes or renews `name` for `holder` until now + ttlMs; false while another holder's lease runs. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  release(name: string, holder: string): Promise<void>;
}
