// One contract for every state store (memory, embedded SQLite, and the shared store next): the ports
// the pipeline (claim, commit), the call assembler (update, idle index, lease) and the span shipper
// (outbox) rely on. Each implementation's test file calls `storeContract` with a factory.
import { describe, expect, test, afterEach } from '@jest/globals';
import {
  isConferenceRecord,
  type CallChange,
  type CallIndex,
  type LeasePort,
  type StoredCall,
} from '../../../src/calls/ports.js';
import { newCallState, type CallState } from '../../../src/calls/call-state.js';
import type { SpanData } from '../../../src/calls/span-data.js';
import { ManualClock } from '../../../src/clock.js';
import type { TxSource } from '../../../src/pipeline/ports.js';
import type { StoreCounts, StoreTx } from '../../../src/store/staged-store.js';
import type { OutboxPort } from '../../../src/telemetry/outbox-port.js';
import assert from '../../support/assert.js';
import { conferenceContract } from './conference-contract.js';

export type ContractStore = TxSource<StoreTx> &
  CallIndex &
  LeasePort &
  OutboxPort & {
    counts(): Promise<StoreCounts>;
    compact(limit?: number): number | Promise<number>;
    close(): void | Promise<void>;
  };

export interface ContractOptions {
  dedupTtlMs: number;
  tombstoneTtlMs: number;
}

export interface StoreFactory {
  name: string;
  /** Opens a fresh, empty store. */
  open(clock: ManualClock, opts: ContractOptions): Promise<ContractStore>;
  /** Durable stores: closes `store` and opens it again on the same data (a restart). */
  reopen?: (store: ContractStore, clock: ManualClock, opts: ContractOptions) => Promise<ContractStore>;
}

const HOUR = 3_600_000;
const OPTS: ContractOptions = { dedupTtlMs: 6 * HOUR, tombstoneTtlMs: 6 * HOUR };

function pending(state: CallState): StoredCall {
  return { status: 'pending', state };
}

/** The reducer shape every caller uses: add an event id to a pending call, once. */
function addEventId(callSid: string, eventId: string, now: number) {
  return (current: StoredCall | undefined): CallChange<boolean> => {
    if (current?.status === 'finalised' || (current !== undefined && isConferenceRecord(current)))
      return { next: undefined, result: false };
    const state = current?.state ?? newCallState(callSid, undefined, now);
    if (state.eventIds.includes(eventId)) return { next: undefined, result: false };
    return { next: pending({ ...state, eventIds: [...state.eventIds, eventId], lastActivityAt: now }), result: true };
  };
}

function span(callSid: string, name: string): SpanData {
  return {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: undefined,
    name: `${callSid}:${name}`,
    startMs: 1,
    endMs: 2,
    attributes: { 'twilio.call_sid': callSid },
    events: [],
    droppedEvents: 0,
    status: { code: 'unset', message: undefined },
  };
}

function finalise(callSid: string, now: number, spans: SpanData[]) {
  return (current: StoredCall | undefined): CallChange<boolean> => {
    if (current?.status !== 'pending') return { next: undefined, result: false };
    return {
      next: {
        status: 'finalised',
        tombstone: { callSid, finalisedAt: now, reason: 'complete', summaryStage: 'complete', processingVersion: 1 },
      },
      outbox: spans,
      result: true,
    };
  };
}

async function read(store: ContractStore, callSid: string): Promise<StoredCall | undefined> {
  const tx = store.begin();
  const seen = await tx.update(callSid, (current) => ({ next: undefined, result: current }));
  tx.abort();
  return seen;
}

export function storeContract(factory: StoreFactory): void {
  describe(`store contract: ${factory.name}`, () => {
    let clock: ManualClock;
    let store: ContractStore;
    const open = async (opts = OPTS) => {
      clock = new ManualClock(Date.UTC(2026, 10, 30, 9));
      store = await factory.open(clock, opts);
      return store;
    };
    afterEach(async () => {
      await store.close();
    });

    describe('claim', () => {
      test('says which ids are new; repeats inside one claim count once; a committed claim is a duplicate later', async () => {
        await open();
        const tx = store.begin();
        assert.deepEqual([...(await tx.claim(['EV1', 'EV2', 'EV1']))].sort(), ['EV1', 'EV2']);
        await tx.commit();
        const again = store.begin();
        assert.deepEqual([...(await again.claim(['EV2', 'EV3']))], ['EV3']);
        await again.commit();
        expect((await store.counts()).dedupIds).toBe(3);
      });

      test('an aborted unit gives its claims up: the retry of its events is new', async () => {
        await open();
        const tx = store.begin();
        assert.deepEqual([...(await tx.claim(['EV1']))], ['EV1']);
        tx.abort();
        const retry = store.begin();
        assert.deepEqual([...(await retry.claim(['EV1']))], ['EV1']);
        await retry.commit();
      });

      test('race: a second claimant waits for the first; duplicate if it committed, new if it aborted', async () => {
        await open();
        const first = store.begin();
        await first.claim(['EV1', 'EV2']);
        const second = store.begin();
        const seen = second.claim(['EV1']);
        let settled = false;
        void seen.then(() => (settled = true));
        await new Promise((r) => setImmediate(r));
        expect(settled).toBe(false);
        await first.commit();
        assert.deepEqual([...(await seen)], []);
        await second.commit();

        const third = store.begin();
        await third.claim(['EV9']);
        const fourth = store.begin();
        const later = fourth.claim(['EV9']);
        third.abort();
        assert.deepEqual([...(await later)], ['EV9']);
        await fourth.commit();
      });

      test('many concurrent claimants of one id: exactly one gets it', async () => {
        await open();
        const txs = Array.from({ length: 20 }, () => store.begin());
        const results = await Promise.all(
          txs.map(async (tx, i) => {
            const fresh = await tx.claim(['EVX']);
            if (i % 3 === 0 && fresh.size === 0) tx.abort();
            else await tx.commit();
            return fresh.size;
          }),
        );
        expect(results.reduce((a, b) => a + b, 0)).toBe(1);
      });

      test('a claim lasts the dedup TTL, then the id is new again', async () => {
        await open();
        const tx = store.begin();
        await tx.claim(['EV1']);
        await tx.commit();
        clock.advance(OPTS.dedupTtlMs - 1);
        assert.deepEqual([...(await store.begin().claim(['EV1']))], []);
        clock.advance(1);
        const late = store.begin();
        assert.deepEqual([...(await late.claim(['EV1']))], ['EV1']);
        late.abort();
      });
    });

    describe('update', () => {
      test('atomic under concurrency: 50 units adding an event to one call, all 50 present once', async () => {
        await open();
        const sid = 'CA' + '1'.repeat(32);
        await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const tx = store.begin();
            await tx.claim([`EV${i}`]);
            await tx.update(sid, addEventId(sid, `EV${i}`, clock.now()));
            await new Promise((r) => setImmediate(r));
            await tx.update(sid, addEventId(sid, `EV${i}`, clock.now()));
            await tx.commit();
          }),
        );
        const stored = await read(store, sid);
        assert.ok(stored?.status === 'pending');
        expect([...stored.state.eventIds].sort()).toEqual(Array.from({ length: 50 }, (_, i) => `EV${i}`).sort());
        expect(await store.pendingCount()).toBe(1);
      });

      test('a unit sees the updates another unit staged before it committed', async () => {
        await open();
        const sid = 'CA' + '2'.repeat(32);
        const a = store.begin();
        await a.update(sid, addEventId(sid, 'EVA', clock.now()));
        const b = store.begin();
        await b.update(sid, addEventId(sid, 'EVB', clock.now()));
        await b.commit();
        await a.commit();
        const stored = await read(store, sid);
        assert.ok(stored?.status === 'pending');
        assert.deepEqual(stored.state.eventIds, ['EVA', 'EVB']);
      });

      test('a tombstone lasts its TTL, then the call is unknown again', async () => {
        await open();
        const sid = 'CA' + '3'.repeat(32);
        const tx = store.begin();
        await tx.update(sid, addEventId(sid, 'EV1', clock.now()));
        await tx.update(sid, finalise(sid, clock.now(), [span(sid, 'root')]));
        await tx.commit();
        expect((await read(store, sid))?.status).toBe('finalised');
        expect(await store.pendingCount()).toBe(0);
        clock.advance(OPTS.tombstoneTtlMs);
        expect(await read(store, sid)).toBeUndefined();
        expect(await store.compact()).toBeGreaterThanOrEqual(1);
        expect(await read(store, sid)).toBeUndefined();
      });
    });

    describe('outbox', () => {
      test('finalisation writes the tombstone and the spans in one commit; peek is in write order; ack deletes', async () => {
        await open();
        const sids = ['CA' + 'a'.repeat(32), 'CA' + 'b'.repeat(32), 'CA' + 'c'.repeat(32)];
        for (const sid of sids) {
          const tx = store.begin();
          await tx.update(sid, addEventId(sid, `EV-${sid}`, clock.now()));
          await tx.commit();
        }
        for (const sid of sids) {
          const tx = store.begin();
          await tx.update(sid, finalise(sid, clock.now(), [span(sid, 'root'), span(sid, 'late')]));
          await tx.commit();
        }
        expect(await store.size()).toEqual({ entries: 3, spans: 6 });
        const all = await store.peek(100);
        expect(all.map((e) => e.spans[0]?.name)).toEqual(sids.map((s) => `${s}:root`));
        expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => a - b));
        // Bounded by spans, but never empty while entries wait.
        expect((await store.peek(3)).length).toBe(1);
        expect((await store.peek(1)).length).toBe(1);
        const [first, second] = all;
        assert.ok(first !== undefined && second !== undefined);
        expect((await store.peek(100, first.seq)).map((e) => e.seq)).toEqual(all.slice(1).map((e) => e.seq));
        await store.ack([first.seq]);
        expect((await store.peek(100)).map((e) => e.seq)).toEqual(all.slice(1).map((e) => e.seq));
        expect(await store.size()).toEqual({ entries: 2, spans: 4 });
        await store.ack([first.seq, second.seq]);
        expect(await store.size()).toEqual({ entries: 1, spans: 2 });
      });

      test('an aborted unit that finalised still leaves tombstone and spans together (never one without the other)', async () => {
        await open();
        const sid = 'CA' + 'd'.repeat(32);
        const tx = store.begin();
        await tx.update(sid, addEventId(sid, 'EV1', clock.now()));
        await tx.update(sid, finalise(sid, clock.now(), [span(sid, 'root')]));
        tx.abort();
        const other = store.begin();
        await other.commit();
        const stored = await read(store, sid);
        const entries = await store.peek(100);
        expect(stored?.status === 'finalised').toBe(entries.length === 1);
      });
    });

    describe('idle index', () => {
      test('idle calls least recently active first, bounded; oldestPending; finalised calls are not idle', async () => {
        await open();
        const sids = ['CA' + '4'.repeat(32), 'CA' + '5'.repeat(32), 'CA' + '6'.repeat(32)];
        for (const sid of sids) {
          const tx = store.begin();
          await tx.update(sid, addEventId(sid, `EV-${sid}`, clock.now()));
          await tx.commit();
          clock.advance(1000);
        }
        expect(await store.idleCalls(clock.now(), 10)).toEqual(sids);
        expect(await store.idleCalls(clock.now() - 1500, 10)).toEqual(sids.slice(0, 2));
        expect(await store.idleCalls(clock.now(), 1)).toEqual(sids.slice(0, 1));
        expect(await store.oldestPending()).toBe(sids[0]);
        const tx = store.begin();
        await tx.update(sids[0] ?? '', finalise(sids[0] ?? '', clock.now(), [span('x', 'root')]));
        await tx.commit();
        expect(await store.idleCalls(clock.now(), 10)).toEqual(sids.slice(1));
        expect(await store.pendingCount()).toBe(2);
      });
    });

    describe('lease', () => {
      test('one holder at a time; renewal keeps it; a holder that stops renewing loses it after the TTL', async () => {
        await open();
        expect(await store.acquire('sweep', 'A', 10_000)).toBe(true);
        expect(await store.acquire('sweep', 'B', 10_000)).toBe(false);
        clock.advance(9_000);
        expect(await store.acquire('sweep', 'A', 10_000)).toBe(true);
        clock.advance(9_000);
        expect(await store.acquire('sweep', 'B', 10_000)).toBe(false);
        clock.advance(1_001);
        expect(await store.acquire('sweep', 'B', 10_000)).toBe(true);
        expect(await store.acquire('sweep', 'A', 10_000)).toBe(false);
        await store.release('sweep', 'B');
        expect(await store.acquire('sweep', 'A', 10_000)).toBe(true);
      });
    });

    conferenceContract(factory);

    const reopen = factory.reopen;
    if (reopen !== undefined) {
      describe('durability across a restart', () => {
        test('committed claims, calls, tombstones and outbox entries come back; an uncommitted claim does not', async () => {
          await open();
          const open1 = 'CA' + '7'.repeat(32);
          const done = 'CA' + '8'.repeat(32);
          const tx = store.begin();
          await tx.claim(['EV1', 'EV2']);
          await tx.update(open1, addEventId(open1, 'EV1', clock.now()));
          await tx.update(done, addEventId(done, 'EV2', clock.now()));
          await tx.update(done, finalise(done, clock.now(), [span(done, 'root')]));
          await tx.commit();
          const uncommitted = store.begin();
          await uncommitted.claim(['EV3']);
          store = await reopen(store, clock, OPTS);
          const after = store.begin();
          assert.deepEqual([...(await after.claim(['EV1', 'EV2', 'EV3']))], ['EV3']);
          after.abort();
          const s1 = await read(store, open1);
          assert.ok(s1?.status === 'pending');
          assert.deepEqual(s1.state.eventIds, ['EV1']);
          expect((await read(store, done))?.status).toBe('finalised');
          expect((await store.peek(10)).map((e) => e.spans.map((s) => s.name))).toEqual([[`${done}:root`]]);
          expect(await store.pendingCount()).toBe(1);
          expect(await store.size()).toEqual({ entries: 1, spans: 1 });
          // Sequence numbers keep increasing after a restart.
          const next = store.begin();
          const third = 'CA' + '9'.repeat(32);
          await next.update(third, addEventId(third, 'EV4', clock.now()));
          await next.update(third, finalise(third, clock.now(), [span(third, 'root')]));
          await next.commit();
          const seqs = (await store.peek(10)).map((e) => e.seq);
          expect(seqs.length).toBe(2);
          expect(seqs[1]).toBeGreaterThan(seqs[0] ?? Infinity);
        });

        test('an update that only moves the activity times (a metrics sample) is durable and keeps the rest', async () => {
          await open();
          const sid = 'CA' + 'e'.repeat(32);
          const tx = store.begin();
          await tx.update(sid, addEventId(sid, 'EV1', clock.now()));
          await tx.commit();
          clock.advance(5_000);
          const touch = store.begin();
          const at = clock.now();
          await touch.update(sid, (current) => {
            assert.ok(current?.status === 'pending' && !isConferenceRecord(current));
            // As the reducer does for a sample: a shallow copy, events kept by reference.
            const state = { ...current.state, lastActivityAt: at, earliestAt: at - 9_000, latestAt: at - 1_000 };
            return { next: { status: 'pending', state }, result: undefined };
          });
          await touch.commit();
          store = await reopen(store, clock, OPTS);
          const after = await read(store, sid);
          assert.ok(after?.status === 'pending');
          assert.deepEqual(after.state.eventIds, ['EV1']);
          expect([after.state.lastActivityAt, after.state.earliestAt, after.state.latestAt]).toEqual([
            at,
            at - 9_000,
            at - 1_000,
          ]);
          expect(await store.idleCalls(at, 10)).toEqual([]);
          expect(await store.idleCalls(at + 1, 10)).toEqual([sid]);
        });
      });
    }
  });
}
