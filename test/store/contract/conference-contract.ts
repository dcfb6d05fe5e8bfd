// The store contract for conference records (called by storeContract, so it runs against every store):
// a conference is kept under its ConferenceSid in the same store as calls, pending (its summary and
// participant summaries so far) or finalised (a tombstone, its spans in the outbox). Records come from
// the real reducers fed with Twilio's published examples (test/fixtures/conference-*), and must come
// back exactly as written: what JSON can carry, since the durable stores keep JSON.
import { afterEach, describe, expect, test } from '@jest/globals';
import type { ReduceContext } from '../../../src/calls/call-reducer.js';
import { reduceConferenceSummary, reduceParticipantSummary } from '../../../src/calls/conference-reducer.js';
import { isConferenceRecord, type CallChange, type StoredCall } from '../../../src/calls/ports.js';
import type { CallEffect } from '../../../src/calls/call-reducer.js';
import { ManualClock } from '../../../src/clock.js';
import { FAMILIES } from '../../../src/events/families.js';
import { isEventType, type ConferenceSummaryRecord, type ParticipantSummaryRecord } from '../../../src/events/types.js';
import assert from '../../support/assert.js';
import { fixtureEnvelope } from '../../support/fixtures.js';
import type { ContractOptions, ContractStore, StoreFactory } from './store-contract.js';

const HOUR = 3_600_000;
const OPTS: ContractOptions = { dedupTtlMs: 6 * HOUR, tombstoneTtlMs: 6 * HOUR };
const CONFERENCE = 'CF3e1e4bfe16ef60f065c3dc82a810c79f';

function convert(fixture: string): { record: ConferenceSummaryRecord | ParticipantSummaryRecord; id: string } {
  const envelope = fixtureEnvelope(fixture);
  assert.ok(isEventType(envelope.info.type));
  const result = FAMILIES[envelope.info.type](envelope);
  if (!result.ok) assert.fail(JSON.stringify(result.issues));
  const record = result.value;
  assert.ok(record.kind === 'conference-summary' || record.kind === 'participant-summary');
  return { record, id: envelope.info.id };
}

/** The four legs of the REST example's conference and its summaries (all under CONFERENCE). */
const PARTIAL = 'conference-summary/partial-v1-data-as-string-no-time.json';
const COMPLETE = 'conference-summary/complete-rest-example.json';
const LEGS = [
  'conference-participant-summary/complete-rest-example.json',
  'conference-participant-summary/guide-spelling-rest-list-example.json',
  'conference-participant-summary/coach-events-epoch-seconds.json',
  'conference-participant-summary/client-leg-mos-object-silent-v1.json',
];

/** JSON's view of a value: what a durable store can give back (undefined properties vanish). */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

async function read(store: ContractStore, sid: string): Promise<StoredCall | undefined> {
  const tx = store.begin();
  const seen = await tx.update(sid, (current) => ({ next: undefined, result: current }));
  tx.abort();
  return seen;
}

/**
 * Applies conference fixtures, one unit of work each, as the assembler would; returns what the
 * reducers wrote (record and spans) so the test can compare the store's copy with it.
 */
async function applyAll(store: ContractStore, clock: ManualClock, fixtures: readonly string[]) {
  let written: StoredCall | undefined;
  const spans: unknown[] = [];
  const effects: CallEffect[] = [];
  for (const fixture of fixtures) {
    const { record, id } = convert(fixture);
    const ctx: ReduceContext = { now: clock.now(), exposePii: false, eventId: id, receivedAt: clock.now() };
    const tx = store.begin();
    await tx.claim([id]);
    effects.push(
      ...(await tx.update(CONFERENCE, (current): CallChange<CallEffect[]> => {
        const change =
          record.kind === 'conference-summary'
            ? reduceConferenceSummary(current, record, ctx)
            : reduceParticipantSummary(current, record, ctx);
        if (change.next !== undefined) written = change.next;
        spans.push(...(change.outbox ?? []));
        return change;
      })),
    );
    await tx.commit();
    clock.advance(1_000);
  }
  return { written, spans, effects };
}

export function conferenceContract(factory: StoreFactory): void {
  describe('conference records', () => {
    let clock: ManualClock;
    let store: ContractStore;
    const open = async () => {
      clock = new ManualClock(Date.UTC(2026, 10, 30, 9));
      store = await factory.open(clock, OPTS);
    };
    afterEach(async () => {
      await store.close();
    });

    test('a pending conference round trips under its ConferenceSid, is pending and idle-indexed like a call', async () => {
      await open();
      const { written } = await applyAll(store, clock, [LEGS[2] ?? '', PARTIAL, LEGS[0] ?? '']);
      assert.ok(written?.status === 'pending' && isConferenceRecord(written));
      assert.equal(written.state.participants.length, 2);
      assert.equal(written.state.summary?.stage, 'partial');
      const stored = await read(store, CONFERENCE);
      assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'pending');
      assert.deepEqual(asJson(stored), asJson(written));
      // The coach's actions and the v1 partial's nulls came through intact.
      assert.deepEqual(
        stored.state.participants[0]?.summary.actions.map((a) => a.timeMs),
        [1_633_661_950_000, 1_633_661_980_000, 1_633_661_985_000, 1_633_661_990_000],
      );
      expect(await store.pendingCount()).toBe(1);
      expect(await store.idleCalls(clock.now(), 10)).toEqual([CONFERENCE]);
      expect(await store.oldestPending()).toBe(CONFERENCE);
    });

    test('a finalised conference round trips: the tombstone, and its spans in the outbox with their links', async () => {
      await open();
      const { written, spans, effects } = await applyAll(store, clock, [...LEGS.slice(0, 3), COMPLETE, LEGS[3] ?? '']);
      assert.ok(written?.status === 'finalised' && isConferenceRecord(written), 'finalised by the last leg');
      assert.equal(spans.length, 5, 'root and four participant spans');
      assert.equal(effects.filter((e) => e.kind === 'conference-finalised').length, 1);
      const stored = await read(store, CONFERENCE);
      assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'finalised');
      assert.deepEqual(asJson(stored), asJson(written));
      assert.equal(stored.tombstone.participantKeys.length, 4);
      const entries = await store.peek(100);
      assert.deepEqual(asJson(entries.flatMap((e) => e.spans)), asJson(spans));
      expect(entries.flatMap((e) => e.spans).filter((s) => (s.links ?? []).length > 0).length).toBe(4);
      expect(await store.pendingCount()).toBe(0);
      expect(await store.idleCalls(clock.now(), 10)).toEqual([]);

      // A leg re-sent after finalisation finds the tombstone: ignored, nothing written.
      const again = await applyAll(store, clock, [LEGS[0] ?? '']);
      assert.equal(again.written, undefined);
      assert.deepEqual(again.effects, [{ kind: 'late', late: 'participant-summary', outcome: 'ignored' }]);
    });

    const reopen = factory.reopen;
    if (reopen !== undefined) {
      test('a pending conference survives a restart and finalises afterwards with the legs from both sides of it', async () => {
        await open();
        const before = await applyAll(store, clock, [PARTIAL, LEGS[0] ?? '', LEGS[1] ?? '']);
        store = await reopen(store, clock, OPTS);
        const stored = await read(store, CONFERENCE);
        assert.ok(stored !== undefined && isConferenceRecord(stored) && stored.status === 'pending');
        assert.deepEqual(asJson(stored), asJson(before.written));
        expect(await store.pendingCount()).toBe(1);
        expect(await store.idleCalls(clock.now(), 10)).toEqual([CONFERENCE]);

        const after = await applyAll(store, clock, [COMPLETE, LEGS[2] ?? '', LEGS[3] ?? '']);
        assert.ok(after.written?.status === 'finalised');
        const finalised = after.effects.filter((e) => e.kind === 'conference-finalised');
        assert.equal(finalised.length, 1);
        assert.deepEqual(
          finalised[0]?.participants.map((p) => p.participantSid),
          [
            'CP10d83cb9eb28c9df4653894e1df936a1',
            'CPad7b4afd70af322412be249607e54727',
            'CPf1949292896a29977adabafee766b7e9',
            'CP7d6dc5e4a92cacae97c3c7ce7757b703',
          ],
        );
        expect((await store.peek(100)).flatMap((e) => e.spans).length).toBe(5);

        // Its claims survived the restart too: the legs from before are duplicates.
        const tx = store.begin();
        const fresh = await tx.claim([convert(LEGS[0] ?? '').id, convert(LEGS[3] ?? '').id]);
        tx.abort();
        assert.deepEqual([...fresh], []);
      });
    }
  });
}
