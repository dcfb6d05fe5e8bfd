// The CallAssembler as the pipeline drives it (claim, apply, commit, effects after the commit), on the
// real StagedStore over MemoryPersistence with a ManualClock, for conference tests: CloudEvents go
// through the real envelope parser and event families; spans are read from the outbox as committed,
// effects as applied. Like test/calls/assembler.test.ts, without HTTP.
import assert from '../support/assert.js';
import { CallAssembler, type CallEffect } from '../../src/calls/assembler.js';
import type { SpanData } from '../../src/calls/span-data.js';
import { isConferenceRecord, type StoredCall } from '../../src/calls/ports.js';
import { ManualClock } from '../../src/clock.js';
import { parseEnvelope } from '../../src/events/envelope.js';
import { FAMILIES } from '../../src/events/families.js';
import { isEventType } from '../../src/events/types.js';
import type { AcceptedEvent } from '../../src/pipeline/dispatch.js';
import { MemoryPersistence } from '../../src/store/memory-persistence.js';
import { StagedStore } from '../../src/store/staged-store.js';
import { T0 } from '../support/span-tree.js';

type CloudEvent = Record<string, unknown>;

export const IDLE_TIMEOUT_MS = 45 * 60_000;

export interface ConferenceRig {
  clock: ManualClock;
  assembler: CallAssembler;
  spans: SpanData[];
  effects: CallEffect[];
  /** Converts and applies CloudEvents in one unit of work, received "now"; ids already claimed are dropped as the pipeline does. */
  deliver(...events: CloudEvent[]): Promise<void>;
  /** As `deliver`, without the claim: a redelivery whose claim expired, or a retry of a failed request. */
  apply(...events: CloudEvent[]): Promise<void>;
  /** The stored record under a sid. */
  record(sid: string): Promise<StoredCall | undefined>;
  effectsOf<K extends CallEffect['kind']>(kind: K): Extract<CallEffect, { kind: K }>[];
  /** Spans of one trace with a name. */
  named(traceId: string, name: string): SpanData[];
}

export function conferenceRig(opts: { exposePii?: boolean; now?: number } = {}): ConferenceRig {
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
    maxPendingCalls: 100_000,
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

  async function run(events: CloudEvent[], claim: boolean): Promise<void> {
    let accepted = convert(events);
    const tx = store.begin();
    if (claim) {
      const fresh = await tx.claim(accepted.map((a) => a.meta.info.id));
      accepted = accepted.filter((a) => fresh.has(a.meta.info.id));
    }
    const after = await assembler.apply(accepted, tx);
    await tx.commit();
    after();
  }

  return {
    clock,
    assembler,
    spans,
    effects,
    deliver: (...events) => run(events, true),
    apply: (...events) => run(events, false),
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

export function isPendingConference(record: StoredCall | undefined): boolean {
  return record !== undefined && isConferenceRecord(record) && record.status === 'pending';
}
