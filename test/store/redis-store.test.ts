// What the shared store adds to the store contract (test/store/contract/): several replicas (stores,
// and a real second process) on one Redis key space, keys that all expire, deployments separated by
// their key prefix, and a server that goes away and comes back. On a real redis-server.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import { newCallState } from '../../src/calls/call-state.js';
import { isConferenceRecord, type CallChange, type StoredCall } from '../../src/calls/ports.js';
import type { SpanData } from '../../src/calls/span-data.js';
import { ClaimConflictError, RedisStore, type RedisStoreOptions } from '../../src/store/redis/redis-store.js';
import assert from '../support/assert.js';
import { ensureBuilt, REPO_ROOT, waitFor } from '../support/child.js';
import { RedisServer } from '../support/redis-server.js';

const HOUR = 3_600_000;
const CHILD = join(REPO_ROOT, 'test', 'support', 'redis-store-child.mjs');
const PASSWORD = 'pw-never-shown-7f3a';

let server: RedisServer;
let raw: Redis;
const stores: RedisStore[] = [];
let n = 0;

beforeAll(async () => {
  server = await RedisServer.start({ password: PASSWORD });
  raw = new Redis(server.url);
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  raw.disconnect();
  await server.dispose();
});

const freshPrefix = () => `t${process.pid}-${++n}:`;

async function open(prefix: string, extra: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const store = await RedisStore.open({
    url: server.url,
    keyPrefix: prefix,
    clock: { now: () => Date.now() },
    dedupTtlMs: 6 * HOUR,
    tombstoneTtlMs: 6 * HOUR,
    pendingCallTtlMs: 6 * HOUR,
    outboxTtlMs: 6 * HOUR,
    ...extra,
  });
  stores.push(store);
  return store;
}

function addEventId(callSid: string, eventId: string) {
  return (current: StoredCall | undefined): CallChange<boolean> => {
    if (current?.status === 'finalised' || (current !== undefined && isConferenceRecord(current)))
      return { next: undefined, result: false };
    const state = current?.state ?? newCallState(callSid, undefined, Date.now());
    if (state.eventIds.includes(eventId)) return { next: undefined, result: false };
    return {
      next: {
        status: 'pending',
        state: { ...state, eventIds: [...state.eventIds, eventId], lastActivityAt: Date.now() },
      },
      result: true,
    };
  };
}

function rootSpan(callSid: string): SpanData {
  return {
    traceId: callSid.slice(2).toLowerCase(),
    spanId: 'b'.repeat(16),
    parentSpanId: undefined,
    name: 'call',
    startMs: 1,
    endMs: 2,
    attributes: {},
    events: [],
    droppedEvents: 0,
    status: { code: 'unset', message: undefined },
  };
}

function finalise(callSid: string) {
  return (current: StoredCall | undefined): CallChange<boolean> => {
    if (current?.status !== 'pending') return { next: undefined, result: false };
    return {
      next: {
        status: 'finalised',
        tombstone: {
          callSid,
          finalisedAt: Date.now(),
          reason: 'complete',
          summaryStage: 'complete',
          processingVersion: 1,
        },
      },
      outbox: [rootSpan(callSid)],
      result: true,
    };
  };
}

describe('replicas on one key space', () => {
  test('updates of one call from two replicas at once: none is lost (version check, pure function run again)', async () => {
    const prefix = freshPrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const sid = 'CA' + '1'.repeat(32);
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const store = i % 2 === 0 ? a : b;
        const tx = store.begin();
        await tx.update(sid, addEventId(sid, `EV${i}`));
        await tx.commit();
      }),
    );
    const tx = b.begin();
    const stored = await tx.update(sid, (c) => ({ next: undefined, result: c }));
    tx.abort();
    assert.ok(stored?.status === 'pending');
    expect([...stored.state.eventIds].sort()).toEqual(Array.from({ length: 60 }, (_, i) => `EV${i}`).sort());
    expect(await a.pendingCount()).toBe(1);
  });

  test('two replicas finalise one call at once: one tombstone, one outbox entry, one "finalised" result', async () => {
    const prefix = freshPrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    for (let k = 0; k < 20; k++) {
      const sid = `CA${String(k).padStart(32, '0')}`;
      const first = a.begin();
      await first.update(sid, addEventId(sid, 'EV0'));
      await first.commit();
      const results = await Promise.all(
        [a, b, a, b].map(async (store) => {
          const tx = store.begin();
          const r = await tx.update(sid, finalise(sid));
          await tx.commit();
          return r;
        }),
      );
      expect(results.filter(Boolean).length).toBe(1);
    }
    expect(await a.size()).toEqual({ entries: 20, spans: 20 });
    expect(await b.pendingCount()).toBe(0);
  });

  test('a claim in flight on another replica is waited for: duplicate if it commits, claimed if it aborts', async () => {
    const prefix = freshPrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const first = a.begin();
    assert.deepEqual([...(await first.claim(['EV1']))], ['EV1']);
    const second = b.begin();
    const seen = second.claim(['EV1']);
    await new Promise((r) => setTimeout(r, 100));
    await first.commit();
    assert.deepEqual([...(await seen)], []);
    await second.commit();

    const third = a.begin();
    await third.claim(['EV2']);
    const fourth = b.begin();
    const later = fourth.claim(['EV2']);
    await new Promise((r) => setTimeout(r, 100));
    third.abort();
    assert.deepEqual([...(await later)], ['EV2']);
    await fourth.commit();
  });

  test('a claim held longer than the wait by a live replica fails the request (503), never answers it as a duplicate', async () => {
    const prefix = freshPrefix();
    const a = await open(prefix);
    const b = await open(prefix, { claimWaitMs: 300 });
    const slow = a.begin();
    await slow.claim(['EV1']);
    const started = Date.now();
    const other = b.begin();
    await expect(other.claim(['EV1'])).rejects.toBeInstanceOf(ClaimConflictError);
    other.abort();
    expect(Date.now() - started).toBeLessThan(2000);
    await slow.commit();
    const retry = b.begin();
    assert.deepEqual([...(await retry.claim(['EV1']))], []);
    retry.abort();
  });

  test('a unit that outlived its pending claim fails its commit; the unit that took the claim over commits', async () => {
    const prefix = freshPrefix();
    const a = await open(prefix, { pendingClaimMs: 100 });
    const b = await open(prefix);
    const slow = a.begin();
    await slow.claim(['EV1', 'EV2']);
    await new Promise((r) => setTimeout(r, 250));
    const fast = b.begin();
    assert.deepEqual([...(await fast.claim(['EV2']))], ['EV2']);
    await expect(slow.commit()).rejects.toBeInstanceOf(ClaimConflictError);
    await fast.commit();
    // The slow unit committed nothing: EV1 is new again, EV2 is fast's.
    const after = b.begin();
    assert.deepEqual([...(await after.claim(['EV1', 'EV2']))], ['EV1']);
    after.abort();
  });

  test('a replica killed with a claim in flight: its claim is taken over once its heartbeat lapses, not after the claim TTL', async () => {
    await ensureBuilt();
    const prefix = freshPrefix();
    const child = spawn(process.execPath, [CHILD, server.url, prefix, 'EVKILL'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor('the child to claim EVKILL', () => out.includes('claimed 1'), { timeoutMs: 20_000, intervalMs: 20 });
    child.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    const b = await open(prefix, { claimWaitMs: 500 });
    let refused = 0;
    let fresh: ReadonlySet<string> | undefined;
    while (fresh === undefined && Date.now() - killedAt < 20_000) {
      const tx = b.begin();
      try {
        fresh = await tx.claim(['EVKILL']);
        await tx.commit();
      } catch (err) {
        assert.ok(err instanceof ClaimConflictError, String(err));
        tx.abort();
        refused++;
      }
    }
    assert.deepEqual([...(fresh ?? [])], ['EVKILL'], 'the dead replica’s event is processed here, not dropped');
    // Refused (503: Twilio retries) while the heartbeat lasted (5 s), taken over long before the claim's
    // own 60 s TTL (the child's) would have freed it.
    expect(refused).toBeGreaterThan(0);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
  }, 30_000);
});

describe('keys', () => {
  test('every key a workload leaves has a TTL, and nothing is outside the key prefix', async () => {
    const prefix = freshPrefix();
    const store = await open(prefix);
    const before = new Set(await raw.keys('*'));
    for (let i = 0; i < 5; i++) {
      const sid = `CA${String(i).padStart(32, '7')}`;
      const tx = store.begin();
      await tx.claim([`EV${i}`, `EVX${i}`]);
      await tx.update(sid, addEventId(sid, `EV${i}`));
      if (i % 2 === 0) await tx.update(sid, finalise(sid));
      await tx.commit();
    }
    const aborted = store.begin();
    await aborted.claim(['EV-aborted']);
    aborted.abort();
    await store.acquire('idle-sweep', 'me', 30_000);
    await store.counts();
    const [first] = await store.peek(10);
    assert.ok(first !== undefined);
    await store.ack([first.seq]);
    await store.compact();
    await new Promise((r) => setTimeout(r, 50));
    const keys = (await raw.keys('*')).filter((k) => !before.has(k));
    expect(keys.length).toBeGreaterThan(10);
    const outside = keys.filter((k) => !k.startsWith(prefix));
    assert.deepEqual(outside, []);
    const ttls = await Promise.all(keys.map(async (k) => [k, await raw.pttl(k)] as const));
    assert.deepEqual(
      ttls.filter(([, ttl]) => ttl < 0).map(([k]) => k),
      [],
      'keys without a TTL',
    );
    expect(keys.some((k) => k.includes('claim:EV-aborted'))).toBe(false);
  });

  test('two deployments with different prefixes share one Redis without seeing each other', async () => {
    const [a, b] = [await open(freshPrefix()), await open(freshPrefix())];
    const ta = a.begin();
    await ta.claim(['EV1']);
    await ta.update('CA' + '9'.repeat(32), addEventId('CA' + '9'.repeat(32), 'EV1'));
    await ta.commit();
    const tb = b.begin();
    assert.deepEqual([...(await tb.claim(['EV1']))], ['EV1']);
    await tb.commit();
    expect(await b.pendingCount()).toBe(0);
    expect(await a.pendingCount()).toBe(1);
  });

  test('an index entry whose call key expired is dropped by the idle query, so it never blocks the sweep', async () => {
    const prefix = freshPrefix();
    const store = await open(prefix);
    const sids = ['CA' + 'a'.repeat(32), 'CA' + 'b'.repeat(32)];
    for (const sid of sids) {
      const tx = store.begin();
      await tx.update(sid, addEventId(sid, 'EV'));
      await tx.commit();
    }
    await raw.del(`${prefix}call:${sids[0] ?? ''}`);
    expect(await store.idleCalls(Date.now() + 1, 10)).toEqual(sids.slice(1));
    expect(await store.pendingCount()).toBe(1);
  });
});

describe('a server that goes away', () => {
  test('fails fast and unhealthy (naming the server, never its password) while down; healthy again by itself, committed data intact', async () => {
    const prefix = freshPrefix();
    const health: unknown[] = [];
    const store = await open(prefix, { onHealth: (err) => health.push(err) });
    const sid = 'CA' + 'c'.repeat(32);
    const tx = store.begin();
    await tx.claim(['EV1']);
    await tx.update(sid, addEventId(sid, 'EV1'));
    await tx.commit();
    await server.stop('SIGKILL');
    try {
      const started = Date.now();
      const down = store.begin();
      await expect(down.claim(['EV2'])).rejects.toThrow(/Redis store redis:\/\/127\.0\.0\.1:\d+\/0 unavailable/);
      down.abort();
      expect(Date.now() - started).toBeLessThan(2500);
      await waitFor('the store to report itself unhealthy', () => health.at(-1) instanceof Error, {
        timeoutMs: 5000,
        intervalMs: 20,
      });
      const reported = health.filter((h): h is Error => h instanceof Error).map((e) => e.message);
      expect(reported.some((m) => m.includes(`127.0.0.1:${server.port}`))).toBe(true);
      expect(reported.some((m) => m.includes(PASSWORD))).toBe(false);
    } finally {
      await server.startAgain();
    }
    await waitFor('the store to report itself healthy again', () => health.at(-1) === undefined, {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const after = store.begin();
    assert.deepEqual([...(await after.claim(['EV1', 'EV2']))], ['EV2'], 'the committed claim survived the kill (AOF)');
    const stored = await after.update(sid, (c) => ({ next: undefined, result: c }));
    after.abort();
    assert.ok(stored?.status === 'pending');
    assert.deepEqual(stored.state.eventIds, ['EV1']);
  }, 30_000);
});
