// The shared state store (STORE_URL=redis://… or rediss://…): every port of StateStore on one Redis or
// Valkey server, so that N replicas behind one load balancer share dedup, call state, the span outbox
// and the leases. Key layout and the atomic steps are in scripts.ts.
//
// How each promise of the ports is kept across processes:
// - Claims (dedup): SET NX-like in a script; a claim is "pending" (owned by one unit of work of one
//   replica, short PX) until that unit commits, then "done" for the dedup TTL. Commit checks that every
//   claim is still the unit's, so a unit that outlived its pending PX fails (503) rather than commit an
//   event another unit took. A claim pending in another unit is waited for (briefly): done -> duplicate,
//   released -> claimed here; a claim of a replica whose heartbeat lapsed (killed) is taken over at
//   once; one still pending after CLAIM_WAIT_MS makes the request fail with 503, never a 2xx for an
//   event whose first claimant might yet fail.
// - Per-call update: optimistic concurrency. Read the record and its version, run the pure update
//   function, then one script writes the new record, its index entry and its outbox entry if the
//   version is unchanged; on a conflict (another replica wrote) read again and run the function again.
//   Within this process updates of one call are queued, so conflicts only come from other replicas.
//   Updates are written at once, not at commit: that is safe because each event applies once by its
//   CloudEvent id (see staged-store.ts), and it keeps the finalised record and its spans together.
// - Durability: an update's or a commit's reply comes after the server's write; with `appendonly yes`
//   and `appendfsync always` after its fsync too (README: Running several replicas).
// - Counts for self-metrics come from a cache refreshed by `counts()`; the dedup-id count sums
//   per-minute counters of committed claims over the dedup TTL: approximate by up to a minute at the
//   edge of the window, and an id claimed again after its TTL counts twice.
// - Health: any failed command (refused, timed out, out of memory) marks the store unhealthy through
//   `onHealth(err)` (the webhook answers 503 with Retry-After and /readyz names the store); a heartbeat
//   write every second marks it healthy again by itself once writes work.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CallChange, StoredCall } from '../../calls/ports.js';
import type { Clock } from '../../clock.js';
import type { OutboxEntry } from '../../telemetry/outbox-port.js';
import type { StateStore, StoreCounts, StoreTx } from '../state-store.js';
import { connect, describeTarget, runScript, waitReady, type Script } from './connection.js';
import {
  ACK,
  ACQUIRE,
  CLAIM,
  COMMIT,
  COMPACT,
  IDLE,
  PEEK,
  RELEASE,
  RELEASE_LEASE,
  TAKE_OVER,
  UPDATE,
} from './scripts.js';

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss://… (never logged: it may hold a password). */
  url: string;
  keyPrefix: string;
  clock: Clock;
  dedupTtlMs: number;
  tombstoneTtlMs: number;
  /** Real-time TTL of a pending call's key: only a leak guard (calls are finalised by the idle sweep). */
  pendingCallTtlMs: number;
  /** Real-time TTL of the outbox keys, renewed by every write (entries are given up long before). */
  outboxTtlMs: number;
  /** Told when a command failed (the error) and when writes work again (undefined). */
  onHealth?: (error: unknown) => void;
  /** Told after an update wrote an outbox entry. */
  onOutboxWritten?: () => void;
  commandTimeoutMs?: number;
  /** How long a claim held by a unit in flight elsewhere is waited for before the request fails. */
  claimWaitMs?: number;
  /** Real-time PX of a claim in flight (a unit that takes longer fails its commit). */
  pendingClaimMs?: number;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 1500;
const DEFAULT_CLAIM_WAIT_MS = 2000;
const DEFAULT_PENDING_CLAIM_MS = 10_000;
/** A replica whose heartbeat is older than this is taken as dead: its pending claims are taken over. */
const HEARTBEAT_TTL_MS = 5000;
const HEARTBEAT_INTERVAL_MS = 1000;
/** Extra real time on keys whose logical expiry the clock decides. */
const SLACK_MS = 60_000;
const MINUTE_MS = 60_000;
/** Conflicting writes of other replicas tolerated for one update before the request fails (503). */
const MAX_UPDATE_ATTEMPTS = 50;

/** The store cannot be reached or refuses writes; names the server without credentials. */
export class RedisUnavailableError extends Error {
  constructor(target: string, cause: unknown) {
    super(`Redis store ${target} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'RedisUnavailableError';
  }
}

/** A request that cannot be answered now without risking a wrong 2xx (Twilio retries it). */
export class ClaimConflictError extends Error {
  override name = 'ClaimConflictError';
}

interface LocalClaim {
  owner: RedisTx;
  settled: Promise<boolean>;
  settle: (committed: boolean) => void;
}

class RedisTx implements StoreTx {
  readonly claimed: string[] = [];
  done = false;

  constructor(
    private readonly store: RedisStore,
    readonly token: string,
  ) {}

  claim(ids: readonly string[]): Promise<ReadonlySet<string>> {
    return this.store.claimFor(this, ids);
  }

  update<R>(callSid: string, fn: (current: StoredCall | undefined) => CallChange<R>): Promise<R> {
    return this.store.updateCall(callSid, fn);
  }

  commit(): Promise<void> {
    if (this.done) return Promise.reject(new Error('unit of work already ended'));
    this.done = true;
    return this.store.commitTx(this);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.store.abortTx(this);
  }
}

export class RedisStore implements StateStore {
  readonly durable = true;
  /** host:port/db, for logs and /readyz. */
  readonly target: string;
  private readonly replicaId = randomBytes(6).toString('hex');
  private units = 0;
  private readonly open = new Set<RedisTx>();
  private readonly localClaims = new Map<string, LocalClaim>();
  /** Claims whose release failed (store unreachable): id -> token; taken over on sight, released later. */
  private readonly orphans = new Map<string, string>();
  private readonly callQueues = new Map<string, Promise<void>>();
  private cached: StoreCounts = { dedupIds: 0, pendingCalls: 0, outboxEntries: 0, outboxSpans: 0, bytes: 0 };
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly claimWaitMs: number;
  private readonly pendingClaimMs: number;
  /** Keys of the deployment-wide structures (scripts.ts has the layout). */
  private readonly k: {
    idle: string;
    tombs: string;
    seq: string;
    /** outbox:idx, outbox:data, outbox:n, outbox:spans: the order the scripts take them in. */
    outbox: string[];
    outboxIdx: string;
    outboxSpans: string;
  };

  private constructor(
    private readonly client: Redis,
    private readonly opts: RedisStoreOptions,
  ) {
    this.target = describeTarget(opts.url);
    this.claimWaitMs = opts.claimWaitMs ?? DEFAULT_CLAIM_WAIT_MS;
    this.pendingClaimMs = opts.pendingClaimMs ?? DEFAULT_PENDING_CLAIM_MS;
    const outbox = ['idx', 'data', 'n', 'spans'].map((k) => this.key('outbox', k));
    this.k = {
      idle: this.key('calls', 'idle'),
      tombs: this.key('calls', 'tombs'),
      seq: this.key('outbox', 'seq'),
      outbox,
      outboxIdx: this.key('outbox', 'idx'),
      outboxSpans: this.key('outbox', 'spans'),
    };
  }

  /**
   * Connects and starts the heartbeat. A server that cannot be reached yet does not fail this: the
   * store starts unhealthy (503, unready) and becomes healthy by itself when the server answers.
   */
  static async open(opts: RedisStoreOptions): Promise<RedisStore> {
    const timeout = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const client = connect({ url: opts.url, commandTimeoutMs: timeout, connectionName: 'voice-insights-exporter' });
    const store = new RedisStore(client, opts);
    // Without a listener an 'error' event would end the process; failures surface through commands.
    client.on('error', (err: unknown) => store.unhealthy(err));
    client.on('close', () => {
      if (!store.closed) store.unhealthy(new Error('connection closed'));
    });
    if (!(await waitReady(client, Math.max(2000, 2 * timeout))))
      store.unhealthy(new Error('no connection to the server yet'));
    await store.beat();
    store.heartbeat = setInterval(() => void store.beat(), HEARTBEAT_INTERVAL_MS);
    store.heartbeat.unref();
    await store.counts();
    return store;
  }

  // --- keys ---------------------------------------------------------------------------------------

  private key(...parts: string[]): string {
    return this.opts.keyPrefix + parts.join(':');
  }

  private claimKey(id: string): string {
    return this.key('claim', id);
  }

  private callKey(callSid: string): string {
    return this.key('call', callSid);
  }

  private bucketKey(now: number): string {
    return this.key('dedup', 'n', String(Math.floor(now / MINUTE_MS)));
  }

  private replicaKey(replica: string): string {
    return this.key('replica', replica);
  }

  // --- commands -----------------------------------------------------------------------------------

  /** Runs a command; a failure marks the store unhealthy and comes back as RedisUnavailableError. */
  private async cmd<T>(what: () => Promise<T>): Promise<T> {
    try {
      return await what();
    } catch (err) {
      const wrapped = err instanceof RedisUnavailableError ? err : new RedisUnavailableError(this.target, err);
      this.unhealthy(wrapped);
      throw wrapped;
    }
  }

  private run(s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return this.cmd(() => runScript(this.client, s, keys, args));
  }

  private unhealthy(err: unknown): void {
    if (this.closed) return;
    this.opts.onHealth?.(err instanceof RedisUnavailableError ? err : new RedisUnavailableError(this.target, err));
  }

  /**
   * The heartbeat (other replicas take over this one's pending claims when it stops) and the health
   * probe in one real write; also retries releasing claims whose release failed.
   */
  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      await this.cmd(() => this.client.set(this.replicaKey(this.replicaId), '1', 'PX', HEARTBEAT_TTL_MS));
    } catch {
      return;
    }
    this.opts.onHealth?.(undefined);
    if (this.orphans.size > 0) {
      const orphans = [...this.orphans];
      this.orphans.clear();
      await Promise.all(
        orphans.map(([id, token]) =>
          this.run(RELEASE, [this.claimKey(id)], [token]).catch(() => this.orphans.set(id, token)),
        ),
      );
    }
  }

  // --- units of work and claims -------------------------------------------------------------------

  begin(): StoreTx {
    const tx = new RedisTx(this, `p:${this.replicaId}:${++this.units}`);
    this.open.add(tx);
    return tx;
  }

  /** @internal */
  async claimFor(tx: RedisTx, ids: readonly string[]): Promise<ReadonlySet<string>> {
    const fresh = new Set<string>();
    const deadline = Date.now() + this.claimWaitMs;
    let todo = [...new Set(ids)];
    let delay = 10;
    while (todo.length > 0) {
      // Held by another unit of this process: its commit or abort decides, as in StagedStore.
      const local = todo.flatMap((id) => {
        const held = this.localClaims.get(id);
        return held !== undefined && held.owner !== tx ? [held.settled] : [];
      });
      if (local.length > 0) await this.untilOrTimeout(Promise.all(local), deadline);
      const reply = (await this.run(
        CLAIM,
        todo.map((id) => this.claimKey(id)),
        [tx.token, this.pendingClaimMs, this.opts.clock.now()],
      )) as (number | string)[];
      const busy: { id: string; holder: string }[] = [];
      todo.forEach((id, i) => {
        const r = reply[i];
        if (r === 1) this.took(tx, id, fresh);
        else if (typeof r === 'string') busy.push({ id, holder: r });
      });
      todo = [];
      for (const { id, holder } of busy) {
        if (this.localClaims.get(id)?.owner !== undefined) todo.push(id);
        else if (await this.mayTakeOver(holder, id)) {
          const taken = await this.run(TAKE_OVER, [this.claimKey(id)], [holder, tx.token, this.pendingClaimMs]);
          if (taken === 1) {
            this.orphans.delete(id);
            this.took(tx, id, fresh);
          } else todo.push(id);
        } else todo.push(id);
      }
      if (todo.length === 0) break;
      if (Date.now() >= deadline) {
        // The caller aborts the unit, which releases what it did claim.
        throw new ClaimConflictError(
          `${todo.length} event id(s) are being processed by another request that has not committed yet`,
        );
      }
      // A claim held here is waited for at the top of the loop; only another replica's is polled.
      if (todo.every((id) => this.localClaims.has(id))) continue;
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 200);
    }
    return fresh;
  }

  private took(tx: RedisTx, id: string, fresh: Set<string>): void {
    fresh.add(id);
    tx.claimed.push(id);
    let settle: (committed: boolean) => void = () => undefined;
    const settled = new Promise<boolean>((resolve) => (settle = resolve));
    this.localClaims.set(id, { owner: tx, settled, settle });
  }

  /** A claim pending in a unit that can never commit: one of ours whose release failed, or a dead replica's. */
  private async mayTakeOver(holder: string, id: string): Promise<boolean> {
    if (this.orphans.get(id) === holder) return true;
    const replica = holder.split(':')[1];
    if (replica === undefined || replica === this.replicaId) return false;
    return (await this.cmd(() => this.client.exists(this.replicaKey(replica)))) === 0;
  }

  private async untilOrTimeout(p: Promise<unknown>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
    await Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  /** @internal */
  async commitTx(tx: RedisTx): Promise<void> {
    this.open.delete(tx);
    if (tx.claimed.length === 0) return;
    const now = this.opts.clock.now();
    let committed: unknown;
    try {
      committed = await this.run(
        COMMIT,
        [...tx.claimed.map((id) => this.claimKey(id)), this.bucketKey(now)],
        [
          tx.token,
          `d:${now + this.opts.dedupTtlMs}`,
          this.opts.dedupTtlMs + SLACK_MS,
          this.opts.dedupTtlMs + 2 * MINUTE_MS,
        ],
      );
    } catch (err) {
      // The reply may have been lost after the server committed: the release only deletes claims that
      // are still pending in this unit, so a committed claim stays (and the retry is a duplicate).
      this.abortClaims(tx);
      throw err;
    }
    if (typeof committed !== 'number' || committed < 0) {
      this.abortClaims(tx);
      throw new ClaimConflictError(
        `a claim of this request outlived its ${this.pendingClaimMs} ms and was taken by another request`,
      );
    }
    this.cached = { ...this.cached, dedupIds: this.cached.dedupIds + committed };
    this.settle(tx, true);
    this.opts.onHealth?.(undefined);
  }

  /** @internal */
  abortTx(tx: RedisTx): void {
    this.open.delete(tx);
    this.abortClaims(tx);
  }

  /** Releases the unit's pending claims in the background; waiters here learn the outcome after it. */
  private abortClaims(tx: RedisTx): void {
    if (tx.claimed.length === 0) return;
    const ids = [...tx.claimed];
    void this.run(
      RELEASE,
      ids.map((id) => this.claimKey(id)),
      [tx.token],
    )
      .catch(() => {
        for (const id of ids) this.orphans.set(id, tx.token);
      })
      .finally(() => this.settle(tx, false));
  }

  private settle(tx: RedisTx, committed: boolean): void {
    for (const id of tx.claimed) {
      const held = this.localClaims.get(id);
      if (held?.owner !== tx) continue;
      this.localClaims.delete(id);
      held.settle(committed);
    }
  }

  // --- calls --------------------------------------------------------------------------------------

  /** @internal */
  updateCall<R>(callSid: string, fn: (current: StoredCall | undefined) => CallChange<R>): Promise<R> {
    return this.queued(callSid, () => this.updateNow(callSid, fn));
  }

  /** Runs `task` after every earlier update of this call in this process (no conflicts among ourselves). */
  private async queued<R>(callSid: string, task: () => Promise<R>): Promise<R> {
    const before = this.callQueues.get(callSid) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = before.then(() => new Promise<void>((resolve) => (release = resolve)));
    this.callQueues.set(callSid, mine);
    await before;
    try {
      return await task();
    } finally {
      release();
      if (this.callQueues.get(callSid) === mine) this.callQueues.delete(callSid);
    }
  }

  private async updateNow<R>(callSid: string, fn: (current: StoredCall | undefined) => CallChange<R>): Promise<R> {
    const key = this.callKey(callSid);
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const [v, r, x] = await this.cmd(() => this.client.hmget(key, 'v', 'r', 'x'));
      const now = this.opts.clock.now();
      const live = r !== null && r !== undefined && !(x !== null && x !== undefined && Number(x) <= now);
      const change = fn(live ? (JSON.parse(r) as StoredCall) : undefined);
      const spans = change.outbox ?? [];
      if (change.next === undefined && spans.length === 0) return change.result;
      const next = change.next;
      let mode = 'keep';
      let score = '0';
      let px = 1;
      let indexPx = 1;
      if (next?.status === 'pending') {
        mode = 'pending';
        score = String(next.state.lastActivityAt);
        px = this.opts.pendingCallTtlMs;
        indexPx = this.opts.pendingCallTtlMs;
      } else if (next?.status === 'finalised') {
        mode = 'finalised';
        const expiresAt = next.tombstone.finalisedAt + this.opts.tombstoneTtlMs;
        score = String(expiresAt);
        px = Math.max(1, expiresAt - now) + SLACK_MS;
        indexPx = this.opts.tombstoneTtlMs + SLACK_MS;
      }
      const entry = spans.length > 0 ? JSON.stringify({ createdAt: now, spans }) : '';
      const reply = (await this.run(
        UPDATE,
        [key, this.k.idle, this.k.tombs, this.k.seq, ...this.k.outbox],
        [
          v ?? '0',
          mode,
          next === undefined ? '' : JSON.stringify(next),
          score,
          px,
          indexPx,
          callSid,
          entry,
          spans.length,
          this.opts.outboxTtlMs,
        ],
      )) as [number, number];
      if (reply[0] !== 1) continue; // another replica wrote this call meanwhile: run fn on its record
      if (spans.length > 0) {
        this.cached = {
          ...this.cached,
          outboxEntries: this.cached.outboxEntries + 1,
          outboxSpans: this.cached.outboxSpans + spans.length,
        };
        this.opts.onOutboxWritten?.();
      }
      return change.result;
    }
    throw new ClaimConflictError(`call ${callSid} kept changing under ${MAX_UPDATE_ATTEMPTS} attempts to update it`);
  }

  idleCalls(before: number, limit: number): Promise<string[]> {
    return this.run(IDLE, [this.k.idle], [String(before), limit, this.callKey('')]) as Promise<string[]>;
  }

  async oldestPending(): Promise<string | undefined> {
    const [oldest] = await this.idleCalls(Number.MAX_SAFE_INTEGER, 1);
    return oldest;
  }

  async pendingCount(): Promise<number> {
    return this.cmd(() => this.client.zcard(this.k.idle));
  }

  // --- outbox -------------------------------------------------------------------------------------

  async peek(maxSpans: number, afterSeq = 0): Promise<OutboxEntry[]> {
    const flat = (await this.run(PEEK, this.k.outbox.slice(0, 3), [afterSeq, maxSpans])) as string[];
    const out: OutboxEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const body = JSON.parse(flat[i + 1] ?? '{}') as Omit<OutboxEntry, 'seq'>;
      out.push({ seq: Number(flat[i]), createdAt: body.createdAt, spans: body.spans });
    }
    return out;
  }

  async ack(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    const spans = (await this.run(ACK, this.k.outbox, seqs)) as number;
    this.cached = {
      ...this.cached,
      outboxEntries: Math.max(0, this.cached.outboxEntries - seqs.length),
      outboxSpans: Math.max(0, this.cached.outboxSpans - spans),
    };
  }

  async size(): Promise<{ entries: number; spans: number }> {
    const [entries, spans] = await this.cmd(() =>
      Promise.all([this.client.zcard(this.k.outboxIdx), this.client.get(this.k.outboxSpans)]),
    );
    return { entries, spans: Math.max(0, Number(spans ?? 0)) };
  }

  // --- lease --------------------------------------------------------------------------------------

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.opts.clock.now();
    const got = await this.run(
      ACQUIRE,
      [this.key('lease', name)],
      [holder, String(now), ttlMs, `${now + ttlMs}|${holder}`],
    );
    return got === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.run(RELEASE_LEASE, [this.key('lease', name)], [holder]);
  }

  // --- counts, compaction, lifecycle --------------------------------------------------------------

  /** Refreshes the cached counts; while the server is unreachable, answers the last ones (never throws). */
  async counts(): Promise<StoreCounts> {
    const now = this.opts.clock.now();
    const last = Math.floor(now / MINUTE_MS);
    const first = Math.floor((now - this.opts.dedupTtlMs) / MINUTE_MS) + 1;
    const buckets = Array.from({ length: Math.max(1, last - first + 1) }, (_, i) =>
      this.key('dedup', 'n', String(first + i)),
    );
    try {
      const [pending, outbox, dedup] = await Promise.all([
        this.pendingCount(),
        this.size(),
        this.cmd(() => this.client.mget(buckets)),
      ]);
      this.cached = {
        dedupIds: dedup.reduce((n, v) => n + Number(v ?? 0), 0),
        pendingCalls: pending,
        outboxEntries: outbox.entries,
        outboxSpans: outbox.spans,
        // Memory is Redis's own to bound (maxmemory with noeviction: writes then fail, and we answer 503).
        bytes: 0,
      };
    } catch {
      // unhealthy already; the last counts stand
    }
    return this.cached;
  }

  countsNow(): StoreCounts {
    return this.cached;
  }

  /** Removes tombstones past their TTL a bounded number at a time (their keys' PX would in real time). */
  async compact(limit = 10_000): Promise<number> {
    const removed = await this.run(COMPACT, [this.k.tombs], [String(this.opts.clock.now()), limit, this.callKey('')]);
    return typeof removed === 'number' ? removed : 0;
  }

  /** A real write (the heartbeat): healthy again only when writes work. */
  probe(): Promise<void> {
    return this.beat();
  }

  /**
   * Gives up the claims of units still open (they will never commit: the retry of their events is
   * new), stops the heartbeat so that nothing of this process is waited for, and disconnects.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    const open = [...this.open];
    this.open.clear();
    await Promise.all(
      open
        .filter((tx) => tx.claimed.length > 0)
        .map((tx) =>
          this.run(
            RELEASE,
            tx.claimed.map((id) => this.claimKey(id)),
            [tx.token],
          ).catch(() => undefined),
        ),
    );
    await this.cmd(() => this.client.del(this.replicaKey(this.replicaId))).catch(() => undefined);
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
