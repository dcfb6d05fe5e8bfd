// What the pipeline needs of the state store. Implementations live in src/store/ (memory, embedded,
// and a shared store next); one contract suite (test/store/contract/) holds them to the same promises.
import type { AcceptedEvent } from './dispatch.js';

/**
 * One request's unit of work. Everything it stages becomes durable together at `commit()`; a request
 * is answered 2xx only after its commit resolved (DESIGN section 6: every 2xx is a promise).
 */
export interface IngestTx {
  /**
   * Atomically claims CloudEvent ids and resolves to those that were new. A claim held by another
   * unit of work still in flight is waited for: if that one commits the id is a duplicate, if it aborts
   * the id is claimed here. Claims become durable with this unit's commit, and last the dedup TTL.
   */
  claim(ids: readonly string[]): Promise<ReadonlySet<string>>;
  /** Makes everything staged durable (group commit: concurrent units share one transaction and sync). */
  commit(): Promise<void>;
  /** Releases this unit's claims (an error before commit). Staged call updates are idempotent by event id. */
  abort(): void;
}

export interface TxSource<Tx extends IngestTx> {
  begin(): Tx;
}

/** Runs after the commit that made a unit's effects durable: metrics, span shipping, logs. */
export type AfterCommit = () => void;

/** A stage that keeps state: applies a request's accepted events inside its unit of work. */
export interface StateStage<Tx> {
  apply(events: readonly AcceptedEvent[], tx: Tx): Promise<AfterCommit>;
}
