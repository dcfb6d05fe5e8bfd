// Units of work and group commit over an in-process Persistence (memory or SQLite).
//
// - Call updates and outbox writes go to one overlay shared by every unit of work, at once, so a
//   concurrent request for the same call builds on them (no lost update). Any commit flushes the whole
//   overlay. Writing a unit's call updates before that unit commits is safe: updates are idempotent by
//   CloudEvent id, so a retry of an event whose request failed finds it applied and changes nothing.
// - Claims belong to their unit and become durable only with its commit: a claim never outlives a
//   failed or crashed request, so Twilio's retry of it is processed, not dropped as a duplicate.
// - Group commit: every unit that commits while a flush is pending shares one transaction and one sync.
import { isConferenceRecord, type CallChange, type StoredCall } from '../calls/ports.js';
import type { Clock } from '../clock.js';
import type { OutboxEntry } from '../telemetry/outbox-port.js';
import type { CallRow, CallWrite, Persistence, WriteBatch } from './persistence.js';
import type { StateStore, StoreCounts, StoreTx } from './state-store.js';

export interface StagedStoreOptions {
  clock: Clock;
  /** How long a claimed CloudEvent id is remembered (>= 5 h: Twilio retries for 4 h). */
  dedupTtlMs: number;
  /** How long a finalised call's tombstone routes late data and refuses repeated summaries. */
  tombstoneTtlMs: number;
  /** Told after every flush: undefined when it succeeded, the error when it failed. */
  onFlush?: (error: unknown) => void;
  /** Told after a flush that wrote outbox entries. */
  onOutboxWritten?: () => void;
}

export type { StoreCounts, StoreTx } from './state-store.js';

interface OverlayCall {
  row: CallRow;
  /** Whether the flushed store has this call pending (for pendingCount between flushes). */
  basePending: boolean;
  /** Anything but the activity times changed since the flushed version (or there is none). */
  bodyChanged: boolean;
}

/** Flushed call rows kept decoded, most recently used last: most updates then read no row from disk. */
const ROW_CACHE_MAX = 4096;

/** Same call, same content but for the activity times: the reducers keep unchanged parts by reference. */
function sameBody(a: StoredCall, b: StoredCall): boolean {
  // Conferences are written whole: their updates are rare (a few summaries per conference).
  if (a.status !== 'pending' || b.status !== 'pending' || isConferenceRecord(a) || isConferenceRecord(b))
    return a === b;
  const x = a.state;
  const y = b.state;
  return (
    x.events === y.events &&
    x.eventIds === y.eventIds &&
    x.summary === y.summary &&
    x.streams === y.streams &&
    x.conferences === y.conferences &&
    x.droppedEvents === y.droppedEvents &&
    x.accountSid === y.accountSid &&
    x.callSid === y.callSid
  );
}

interface Claim {
  owner: Tx;
  settled: Promise<boolean>;
  settle: (committed: boolean) => void;
}

interface Waiter {
  tx: Tx;
  resolve: () => void;
  reject: (err: unknown) => void;
}

class Tx implements StoreTx {
  readonly claimed: string[] = [];
  private done = false;

  constructor(private readonly store: StagedStore) {}

  claim(ids: readonly string[]): Promise<ReadonlySet<string>> {
    return this.store.claimFor(this, ids);
  }

  update<R>(callSid: string, fn: (current: StoredCall | undefined) => CallChange<R>): Promise<R> {
    try {
      return Promise.resolve(this.store.updateCall(callSid, fn));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  commit(): Promise<void> {
    if (this.done) return Promise.reject(new Error('unit of work already ended'));
    this.done = true;
    return this.store.commitTx(this);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.store.releaseClaims(this, false);
  }
}

export class StagedStore implements StateStore {
  private readonly calls = new Map<string, OverlayCall>();
  private readonly rowCache = new Map<string, CallRow>();
  private bytes: number;
  private readonly claims = new Map<string, Claim>();
  private outboxAdd: OutboxEntry[] = [];
  private readonly outboxDelete = new Set<number>();
  private waiters: Waiter[] = [];
  private ackWaiters: Waiter[] = [];
  private flushScheduled = false;
  private nextSeq: number;
  private flushedPending: number;
  private outbox: { entries: number; spans: number };

  constructor(
    readonly persistence: Persistence,
    private readonly opts: StagedStoreOptions,
  ) {
    this.nextSeq = persistence.maxOutboxSeq() + 1;
    this.flushedPending = persistence.countPending();
    this.outbox = persistence.outboxCounts();
    this.bytes = persistence.sizeBytes();
  }

  private flushedRow(callSid: string): CallRow | undefined {
    const cached = this.rowCache.get(callSid);
    if (cached !== undefined) {
      this.rowCache.delete(callSid);
      this.rowCache.set(callSid, cached);
      return cached;
    }
    const row = this.persistence.getCall(callSid);
    if (row !== undefined) this.remember(callSid, row);
    return row;
  }

  private remember(callSid: string, row: CallRow): void {
    this.rowCache.delete(callSid);
    this.rowCache.set(callSid, row);
    if (this.rowCache.size > ROW_CACHE_MAX) {
      const oldest = this.rowCache.keys().next();
      if (oldest.done !== true) this.rowCache.delete(oldest.value);
    }
  }

  get durable(): boolean {
    return this.persistence.durable;
  }

  begin(): StoreTx {
    return new Tx(this);
  }

  // --- claims -------------------------------------------------------------------------------------

  /** @internal */
  async claimFor(tx: Tx, ids: readonly string[]): Promise<ReadonlySet<string>> {
    const fresh = new Set<string>();
    for (const id of new Set(ids)) {
      if (await this.claimOne(tx, id)) fresh.add(id);
    }
    return fresh;
  }

  private async claimOne(tx: Tx, id: string): Promise<boolean> {
    for (;;) {
      const held = this.claims.get(id);
      if (held === undefined) break;
      if (held.owner === tx) return false;
      // Another request holds it: its outcome decides (a Twilio retry overlapping a slow first attempt).
      if (await held.settled) return false;
    }
    if (this.persistence.isClaimed(id, this.opts.clock.now())) return false;
    let settle: (committed: boolean) => void = () => undefined;
    const settled = new Promise<boolean>((resolve) => (settle = resolve));
    this.claims.set(id, { owner: tx, settled, settle });
    tx.claimed.push(id);
    return true;
  }

  /** @internal */
  releaseClaims(tx: Tx, committed: boolean): void {
    for (const id of tx.claimed) {
      const held = this.claims.get(id);
      if (held?.owner !== tx) continue;
      this.claims.delete(id);
      held.settle(committed);
    }
  }

  // --- calls --------------------------------------------------------------------------------------

  /** @internal Synchronous read-modify-write: nothing else runs between the read and the staged write. */
  updateCall<R>(callSid: string, fn: (current: StoredCall | undefined) => CallChange<R>): R {
    const staged = this.calls.get(callSid);
    const base = staged === undefined ? this.flushedRow(callSid) : undefined;
    const current = staged?.row ?? base;
    const now = this.opts.clock.now();
    const live = current !== undefined && !(current.expiresAt !== undefined && current.expiresAt <= now);
    const change = fn(live ? current.record : undefined);
    if (change.next !== undefined) {
      const next = change.next;
      const row: CallRow =
        next.status === 'pending'
          ? { record: next, lastActivityAt: next.state.lastActivityAt, expiresAt: undefined }
          : {
              record: next,
              lastActivityAt: undefined,
              expiresAt: next.tombstone.finalisedAt + this.opts.tombstoneTtlMs,
            };
      const basePending = staged?.basePending ?? base?.record.status === 'pending';
      const bodyChanged =
        staged?.bodyChanged === true || current === undefined || !live || !sameBody(current.record, next);
      this.calls.set(callSid, { row, basePending, bodyChanged });
    }
    if (change.outbox !== undefined && change.outbox.length > 0) {
      this.outboxAdd.push({ seq: this.nextSeq++, createdAt: now, spans: change.outbox });
      this.outbox = { entries: this.outbox.entries + 1, spans: this.outbox.spans + change.outbox.length };
    }
    return change.result;
  }

  // --- commit -------------------------------------------------------------------------------------

  /** @internal */
  commitTx(tx: Tx): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ tx, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate lets every request whose I/O completed in this turn join the same transaction.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes the overlay, the committing units' claims and pending acks in one transaction. */
  flush(): void {
    const waiters = this.waiters;
    const ackWaiters = this.ackWaiters;
    this.waiters = [];
    this.ackWaiters = [];
    const now = this.opts.clock.now();
    const calls = new Map<string, CallWrite>();
    for (const [sid, c] of this.calls) calls.set(sid, { ...c.row, bodyChanged: c.bodyChanged });
    const batch: WriteBatch = {
      calls,
      claims: waiters.flatMap((w) => w.tx.claimed.map((id) => ({ id, expiresAt: now + this.opts.dedupTtlMs }))),
      outboxAdd: this.outboxAdd,
      outboxDelete: [...this.outboxDelete],
    };
    try {
      this.persistence.write(batch);
    } catch (err) {
      // The overlay stays for the next flush; the committing units fail (503) and give their claims up.
      for (const w of waiters) {
        this.releaseClaims(w.tx, false);
        w.reject(err);
      }
      for (const w of ackWaiters) w.reject(err);
      this.opts.onFlush?.(err);
      return;
    }
    let pendingDelta = 0;
    for (const c of this.calls.values())
      pendingDelta += (c.row.record.status === 'pending' ? 1 : 0) - (c.basePending ? 1 : 0);
    this.flushedPending += pendingDelta;
    for (const [sid, c] of this.calls) this.remember(sid, c.row);
    this.calls.clear();
    this.bytes = this.persistence.sizeBytes();
    const wroteOutbox = this.outboxAdd.length > 0;
    this.outboxAdd = [];
    this.outboxDelete.clear();
    for (const w of waiters) {
      this.releaseClaims(w.tx, true);
      w.resolve();
    }
    for (const w of ackWaiters) w.resolve();
    this.opts.onFlush?.(undefined);
    if (wroteOutbox) this.opts.onOutboxWritten?.();
  }

  /**
   * Tries a real write while commits fail (disk full, store unwritable): what the failed flush left
   * staged if anything, else a tiny lease row, so readiness recovers only when writes work again.
   */
  probe(): void {
    if (this.calls.size > 0 || this.outboxAdd.length > 0 || this.outboxDelete.size > 0) {
      this.flush();
      return;
    }
    try {
      this.persistence.lease('store-probe', 'probe', this.opts.clock.now(), 1);
      this.opts.onFlush?.(undefined);
    } catch (err) {
      this.opts.onFlush?.(err);
    }
  }

  // --- queries for the sweep, the capacity bound and self-metrics ---------------------------------

  idleCalls(before: number, limit: number): Promise<string[]> {
    const out = new Set<string>();
    for (const sid of this.persistence.idleCalls(before, limit)) {
      const staged = this.calls.get(sid);
      if (staged === undefined || (staged.row.record.status === 'pending' && (staged.row.lastActivityAt ?? 0) < before))
        out.add(sid);
    }
    for (const [sid, c] of this.calls) {
      if (out.size >= limit) break;
      if (c.row.record.status === 'pending' && (c.row.lastActivityAt ?? 0) < before) out.add(sid);
    }
    return Promise.resolve([...out].slice(0, limit));
  }

  async oldestPending(): Promise<string | undefined> {
    const [oldest] = await this.idleCalls(Number.MAX_SAFE_INTEGER, 1);
    return oldest;
  }

  pendingCount(): Promise<number> {
    return Promise.resolve(this.pendingCountNow());
  }

  pendingCountNow(): number {
    let n = this.flushedPending;
    for (const c of this.calls.values()) n += (c.row.record.status === 'pending' ? 1 : 0) - (c.basePending ? 1 : 0);
    return n;
  }

  counts(): Promise<StoreCounts> {
    return Promise.resolve(this.countsNow());
  }

  /** The counts now, synchronously: both backends live in this process. */
  countsNow(): StoreCounts {
    return {
      dedupIds: this.persistence.countClaims(),
      pendingCalls: this.pendingCountNow(),
      outboxEntries: this.outbox.entries,
      outboxSpans: this.outbox.spans,
      // As of the last flush or compaction: a stat per request would cost more than the answer.
      bytes: this.bytes,
    };
  }

  size(): Promise<{ entries: number; spans: number }> {
    return Promise.resolve(this.outbox);
  }

  // --- outbox ---------------------------------------------------------------------------------------

  peek(maxSpans: number, afterSeq = 0): Promise<OutboxEntry[]> {
    const entries = this.persistence.outboxPeek(maxSpans, afterSeq).filter((e) => !this.outboxDelete.has(e.seq));
    return Promise.resolve(entries);
  }

  ack(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return Promise.resolve();
    for (const seq of seqs) {
      if (this.outboxDelete.has(seq)) continue;
      const spans = this.persistence.outboxSpanCount(seq);
      if (spans === undefined) continue;
      this.outboxDelete.add(seq);
      this.outbox = { entries: this.outbox.entries - 1, spans: this.outbox.spans - spans };
    }
    return new Promise((resolve, reject) => {
      this.ackWaiters.push({ tx: new Tx(this), resolve, reject });
      this.scheduleFlush();
    });
  }

  // --- lease, compaction, lifecycle ---------------------------------------------------------------

  acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return Promise.resolve(this.persistence.lease(name, holder, this.opts.clock.now(), ttlMs));
  }

  release(name: string, holder: string): Promise<void> {
    this.persistence.releaseLease(name, holder);
    return Promise.resolve();
  }

  /** Removes expired claims and tombstones, a bounded number at a time. */
  compact(limit = 10_000): number {
    const removed = this.persistence.compact(this.opts.clock.now(), limit);
    this.bytes = this.persistence.sizeBytes();
    return removed;
  }

  /** Flushes what is staged (shutdown) and closes the backend. */
  close(): void {
    if (this.calls.size > 0 || this.waiters.length > 0 || this.outboxAdd.length > 0 || this.outboxDelete.size > 0)
      this.flush();
    this.persistence.close();
  }
}
