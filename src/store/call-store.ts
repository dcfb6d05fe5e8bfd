// Per-call state behind an interface: in memory now; the durable embedded store and a shared store
// (Redis/Valkey, several replicas) implement the same contract. Async so those can.
import type { CallState, FinalisedCall } from '../calls/call-state.js';

export interface CallStore {
  getPending(callSid: string): Promise<CallState | undefined>;
  putPending(state: CallState): Promise<void>;
  /** Moves a call from pending to finalised (its tombstone routes late data). */
  markFinalised(record: FinalisedCall): Promise<void>;
  getFinalised(callSid: string): Promise<FinalisedCall | undefined>;
  /** Updates a tombstone after a late summary. */
  putFinalised(record: FinalisedCall): Promise<void>;
  /** Pending calls whose last activity is older than `before` (epoch ms). */
  idleSince(before: number): Promise<string[]>;
  /** The pending call that was least recently active, to make room when the store is full. */
  oldestPending(): Promise<string | undefined>;
  pendingCount(): number;
}
