// The CallAssembler without HTTP, as the pipeline drives it: real CloudEvents converted by the real
// envelope parser and event families, applied in one unit of work on the real StagedStore over
// MemoryPersistence (claim, apply, commit, effects after the commit), with a ManualClock. Spans are read
// from the store's outbox as they are committed, effects as they are applied. Used by the call tests
// (test/calls/assembler.test.ts) and the conference tests (test/calls/conference-*.test.ts).
import assert from './assert.js';
import { CallAssembler, type CallEffect } from '../../src/calls/assembler.js';
import type { SpanData } from '../../src/calls/span-data.js';
import type { StoredCall } from '../../src/calls/ports.js';
import { ManualClock } from '../../src/clock.js';
import { parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import { isEventType } from '../../src/events/types.js';
import type { AcceptedEvent } from '../../src/pipeline/dispatch.js';
import { MemoryPersistence } from '../../src/store/memory-persistence.js';
import { StagedStore } from '../../src/store/staged-store.js';
import { T0 } from './span-tree.js';

type CloudEvent = Record<string, unknown>;

export const IDLE_TIMEOUT_MS = 45 * 60_000;

/** What a unit of work does with its events' CloudEvent ids. */
export type Claims =
  /** As the pipeline: claims the ids and drops the events whose id was already claimed. */
  | 'drop-claimed'
  /** Claims the ids but applies every event: a repeat reaches the assembler, whose own idempotency is under test. */
  | 'apply-all'
  /** No claim: a redelivery whose claim expired, or a retry of a failed request. */
  | 'none';

export interface AssemblerRigOptions {
  /** The ManualClock's start (default T0 + 10 min, after the builders' calls and conferences began). */
  now?: number;
  exposePii?: boolean;
  maxPendingCalls?: number;
}

export interface AssemblerRig {
  clock: ManualClock;
  store: StagedStore;
  assembler: CallAssembler;
  spans: SpanData[];
  effects: CallEffect[];
  /**
   * Converts CloudEvents (received "now") and applies them in one unit of work; on 'commit' the effects
   * follow the commit, on 'abort' the request fails after its updates were staged, before its commit.
   */
  run(events: CloudEvent[], claims: Claims, end?: 'commit' | 'abort'): Promise<void>;
  /** Converts and applies CloudEvents as the pipeline does: ids already claimed are dropped. */
  deliver(...events: CloudEvent[]): Promise<void>;
  /** As `deliver`, without the claim: a redelivery whose claim expired, or a retry of a failed request. */
  apply(...events: CloudEvent[]): Promise<void>;
  /** The stored record under a sid. */
  record(sid: string): Promise<StoredCall | undefined>;
  effectsOf<K extends CallEffect['kind']>(kind: K): Extract<CallEffect, { kind: K }>[];
  /** Spans of one trace with a name. */
  named(traceId: string, name: string): SpanData[];
}

export function assemblerRig(opts: AssemblerRigOptions = {}): AssemblerRig {
  const clock = new ManualClock(opts.now ?? T0 + 10 * 60_000);
  const spans: SpanData[] = [];
  const effects: CallEffect[] = [];
  const persistence = new MemoryPersistence();
  let shipped = 0;
  const store = new StagedStore(persistence, {
    clock,
    dedupTtlMs: 6 * 3600_000,
    tombstoneTtlMs: 6 * 3600_000,
    onOutboxWritten: () => {
      for (const entry of persistence.outboxPeek(Number.MAX_SAFE_INTEGER, shipped)) {
        spans.push(...entry.spans);
        shipped = entry.seq;
      }
    },
  });
  const assembler = new CallAssembler({
    index: store,
    lease: store,
    store,
    clock,
    onEffects: (applied) => effects.push(...applied),
    exposePii: opts.exposePii ?? false,
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    maxPendingCalls: opts.maxPendingCalls ?? 100_000,
    holder: 'test',
  });

  function convert(events: CloudEvent[]): AcceptedEvent[] {
    return events.map((ce) => {
      const parsed = parseEnvelope(ce);
      if (!parsed.ok) throw new Error(`envelope rejected: ${JSON.stringify(parsed.issues)}`);
      const { info } = parsed.envelope;
      if (!isEventType(info.type)) throw new Error(`not an event type: ${info.type}`);
      const converted = FAMILIES[info.type](parsed.envelope);
      if (!converted.ok) throw new Error(`${info.type} rejected: ${JSON.stringify(converted.issues)}`);
      return { record: converted.value, meta: { info, receivedAt: clock.now() } };
    });
  }

  async function run(events: CloudEvent[], claims: Claims, end: 'commit' | 'abort' = 'commit'): Promise<void> {
    let accepted = convert(events);
    const tx = store.begin();
    if (claims !== 'none') {
      const fresh = await tx.claim(accepted.map((a) => a.meta.info.id));
      if (claims === 'drop-claimed') accepted = accepted.filter((a) => fresh.has(a.meta.info.id));
    }
    const after = await assembler.apply(accepted, tx);
    if (end === 'abort') {
      tx.abort();
      return;
    }
    await tx.commit();
    after();
  }

  return {
    clock,
    store,
    assembler,
    spans,
    effects,
    run,
    deliver: (...events) => run(events, 'drop-claimed'),
    apply: (...events) => run(events, 'none'),
    async record(sid) {
      const tx = store.begin();
      const current = await tx.update(sid, (c) => ({ next: undefined, result: c }));
      tx.abort();
      return current;
    },
    effectsOf: <K extends CallEffect['kind']>(kind: K) =>
      effects.filter((e): e is Extract<CallEffect, { kind: K }> => e.kind === kind),
    named: (traceId, name) => spans.filter((s) => s.traceId === traceId && s.name === name),
  };
}

export function only<T>(items: readonly T[], what: string): T {
  assert.equal(items.length, 1, `exactly one ${what}, got ${items.length}`);
  const [item] = items;
  assert.ok(item !== undefined);
  return item;
}
