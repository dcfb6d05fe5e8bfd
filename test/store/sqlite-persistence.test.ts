// The embedded SQLite store beyond the shared contract: atomic writes when the disk is full, one process
// per data directory, durability across a real SIGKILL, and compaction keeping the files bounded.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { ManualClock } from '../../src/clock.js';
import type { CallRow, WriteBatch } from '../../src/store/persistence.js';
import { SqlitePersistence, STATE_FILE } from '../../src/store/sqlite-persistence.js';
import { StagedStore } from '../../src/store/staged-store.js';
import { ensureBuilt, REPO_ROOT } from '../support/child.js';
import assert from '../support/assert.js';

const HOUR = 3_600_000;
const CHILD = join(REPO_ROOT, 'test', 'support', 'sqlite-store-child.mjs');
const root = mkdtempSync(join(tmpdir(), 'vie-sqlite-'));
let n = 0;
const freshDir = () => join(root, `store-${++n}`);

afterAll(() => rmSync(root, { recursive: true, force: true }));

const eventId = (i: number) => `EV${String(i).padStart(8, '0')}`;
const callSid = (i: number) => `CA${String(i).padStart(32, '0')}`;

function pendingRow(i: number, now: number): CallRow {
  return {
    record: {
      status: 'pending',
      state: {
        callSid: callSid(i),
        accountSid: undefined,
        lastActivityAt: now,
        earliestAt: undefined,
        latestAt: undefined,
        events: [],
        eventIds: [eventId(i), 'x'.repeat(1000)],
        droppedEvents: 0,
        summary: undefined,
      },
    },
    lastActivityAt: now,
    expiresAt: undefined,
  };
}

function tombstoneRow(i: number, now: number, ttlMs: number): CallRow {
  return {
    record: {
      status: 'finalised',
      tombstone: {
        callSid: callSid(i),
        finalisedAt: now,
        reason: 'complete',
        summaryStage: 'complete',
        processingVersion: 1,
      },
    },
    lastActivityAt: undefined,
    expiresAt: now + ttlMs,
  };
}

function batchOf(from: number, count: number, now: number, seqFrom: number): WriteBatch {
  const calls = new Map<string, CallRow>();
  for (let i = from; i < from + count; i++) calls.set(callSid(i), pendingRow(i, now));
  return {
    calls,
    claims: Array.from({ length: count }, (_, k) => ({ id: eventId(from + k), expiresAt: now + HOUR })),
    outboxAdd: Array.from({ length: count }, (_, k) => ({ seq: seqFrom + k, createdAt: now, spans: [] })),
    outboxDelete: [],
  };
}

function sqliteCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

describe('a write that cannot complete leaves nothing of its batch', () => {
  test('SQLITE_FULL midway: no call, claim or outbox entry of the batch; writes work again when room returns', () => {
    const p = SqlitePersistence.open({ dir: freshDir(), sync: 'full' });
    const now = Date.UTC(2026, 10, 30);
    p.write(batchOf(0, 10, now, 1));
    // A cap cannot go below the current size, so this reads it; a few pages of room beyond it let the
    // batch's first rows in before it runs out.
    const pages = p.setMaxPageCount(1);
    expect(p.setMaxPageCount(pages + 8)).toBe(pages + 8);
    let thrown: unknown;
    try {
      p.write(batchOf(10, 200, now, 11)); // ~200 KB: fails after its first rows went in
    } catch (err) {
      thrown = err;
    }
    expect(sqliteCode(thrown)).toBe('SQLITE_FULL');
    const batch = Array.from({ length: 200 }, (_, k) => 10 + k);
    expect(batch.filter((i) => p.getCall(callSid(i)) !== undefined || p.isClaimed(eventId(i), now))).toEqual([]);
    expect(p.countClaims()).toBe(10);
    expect(p.outboxCounts()).toEqual({ entries: 10, spans: 0 });
    expect(p.maxOutboxSeq()).toBe(10);
    expect(p.outboxPeek(1000, 0).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    p.setMaxPageCount(undefined);
    p.write(batchOf(10, 200, now, 11));
    expect(p.countClaims()).toBe(210);
    expect(p.isClaimed(eventId(209), now)).toBe(true);
    expect(p.getCall(callSid(209))?.record.status).toBe('pending');
    expect(p.maxOutboxSeq()).toBe(210);
    p.close();
  });

  test('maxPageCount caps a store from the start (at least its empty schema)', () => {
    const p = SqlitePersistence.open({ dir: freshDir(), sync: 'normal', maxPageCount: 1 });
    expect(() => p.write(batchOf(0, 50, 1, 1))).toThrow(expect.objectContaining({ code: 'SQLITE_FULL' }));
    expect(p.countClaims()).toBe(0);
    expect(p.outboxCounts()).toEqual({ entries: 0, spans: 0 });
    p.close();
  });

  test('through StagedStore: commits fail (the 503 path) while full, and succeed after compaction frees room', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30));
    const dir = freshDir();
    const p = SqlitePersistence.open({ dir, sync: 'normal' });
    const store = new StagedStore(p, { clock, dedupTtlMs: HOUR, tombstoneTtlMs: HOUR });
    // Fill: 300 committed units whose claims expire in an hour.
    for (let i = 0; i < 300; i++) {
      const tx = store.begin();
      await tx.claim([eventId(i) + 'y'.repeat(500)]);
      await tx.commit();
    }
    p.setMaxPageCount(1);
    const tx = store.begin();
    const fresh = await tx.claim(Array.from({ length: 300 }, (_, k) => eventId(1000 + k) + 'z'.repeat(500)));
    expect(fresh.size).toBe(300);
    await expect(tx.commit()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect((await store.counts()).dedupIds).toBe(300);
    // The failed unit gave its claims up: the retry is new.
    const retryIds = Array.from({ length: 300 }, (_, k) => eventId(1000 + k) + 'z'.repeat(500));
    clock.advance(HOUR);
    expect(store.compact()).toBe(300);
    const retry = store.begin();
    expect((await retry.claim(retryIds)).size).toBe(300);
    await retry.commit();
    expect((await store.counts()).dedupIds).toBe(300);
    store.close();
  });
});

describe('one process per data directory', () => {
  beforeAll(() => ensureBuilt());

  test('a second open of the same directory fails, naming it, while the first is open; works after close', () => {
    const dir = freshDir();
    const first = SqlitePersistence.open({ dir, sync: 'full' });
    expect(() => SqlitePersistence.open({ dir, sync: 'full', busyTimeoutMs: 50 })).toThrow(
      `the state store in ${dir} is in use by another process`,
    );
    // Another process too (POSIX locks are per process: this is the case that matters).
    const probe = spawnSync(process.execPath, [CHILD, 'probe', dir], { encoding: 'utf8', timeout: 30_000 });
    expect(probe.stderr).toBe('');
    const answer = JSON.parse(probe.stdout) as { ok: boolean; message?: string };
    expect(answer.ok).toBe(false);
    expect(answer.message).toContain(`the state store in ${dir} is in use by another process`);
    first.write(batchOf(0, 1, 1, 1)); // the first is unharmed
    first.close();
    const second = SqlitePersistence.open({ dir, sync: 'full' });
    expect(second.countClaims()).toBe(1);
    second.close();
  });

  test('a schema newer than this code knows is refused, not used', () => {
    const dir = freshDir();
    SqlitePersistence.open({ dir, sync: 'full' }).close();
    const raw = new Database(join(dir, STATE_FILE));
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => SqlitePersistence.open({ dir, sync: 'full' })).toThrow(/schema version 99 is newer/);
  });
});

describe('durability across a SIGKILL', () => {
  beforeAll(() => ensureBuilt());

  test.each(['full', 'normal'])(
    'synchronous %s: every unit whose commit resolved is there after the process was killed mid-stream',
    async (sync) => {
      const dir = freshDir();
      const child = spawn(process.execPath, [CHILD, 'commit', dir, sync, '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          // Kill while commits are in flight: well after start, at an arbitrary point in the stream.
          if (out.split('\n').length > 400) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`child exited before it was killed: ${err}`)));
      });
      expect(await exited).toBe('SIGKILL');
      const lines = out.split('\n');
      lines.pop(); // a line cut by the kill, or the empty tail
      const committed = lines.map(Number);
      expect(committed.length).toBeGreaterThanOrEqual(400);

      const p = SqlitePersistence.open({ dir, sync: 'full' });
      const now = Date.now();
      const missing = committed.filter((i) => {
        const row = p.getCall(callSid(i));
        const ok =
          p.isClaimed(eventId(i), now) &&
          (i % 10 === 0 ? row?.record.status === 'finalised' : row?.record.status === 'pending');
        return !ok;
      });
      assert.deepEqual(missing, []);
      // Finalised calls and their spans went in together.
      const finalised = committed.filter((i) => i % 10 === 0);
      const spanNames = new Set(p.outboxPeek(Number.MAX_SAFE_INTEGER, 0).flatMap((e) => e.spans.map((s) => s.name)));
      expect(finalised.filter((i) => !spanNames.has(callSid(i)))).toEqual([]);
      expect(p.countClaims()).toBeGreaterThanOrEqual(committed.length);
      p.close();
    },
  );
});

describe('compaction', () => {
  test('removes expired claims and tombstones, at most `limit` at a time, and nothing unexpired', () => {
    const p = SqlitePersistence.open({ dir: freshDir(), sync: 'normal' });
    const now = 1_000_000;
    const calls = new Map<string, CallRow>();
    for (let i = 0; i < 5; i++) calls.set(callSid(i), tombstoneRow(i, now, 100));
    calls.set(callSid(99), pendingRow(99, now));
    p.write({
      calls,
      claims: [
        { id: 'old1', expiresAt: now + 100 },
        { id: 'old2', expiresAt: now + 100 },
        { id: 'new', expiresAt: now + 1000 },
      ],
      outboxAdd: [],
      outboxDelete: [],
    });
    expect(p.compact(now + 99, 100)).toBe(0);
    expect(p.compact(now + 100, 4)).toBe(4);
    expect(p.compact(now + 100, 100)).toBe(3);
    expect(p.compact(now + 100, 100)).toBe(0);
    expect(p.countClaims()).toBe(1);
    expect(p.isClaimed('new', now + 100)).toBe(true);
    for (let i = 0; i < 5; i++) expect(p.getCall(callSid(i))).toBeUndefined();
    expect(p.getCall(callSid(99))?.record.status).toBe('pending');
    expect(p.countPending()).toBe(1);
    p.close();
  });

  test('the files stay flat across fill / expire / compact cycles', () => {
    const p = SqlitePersistence.open({ dir: freshDir(), sync: 'normal' });
    let now = Date.UTC(2026, 10, 30);
    let seq = 0;
    const sizes: number[] = [];
    for (let cycle = 0; cycle < 8; cycle++) {
      for (let b = 0; b < 20; b++) {
        const calls = new Map<string, CallRow>();
        const base = cycle * 10_000 + b * 100;
        for (let i = base; i < base + 100; i++) calls.set(callSid(i), tombstoneRow(i, now, HOUR));
        const outboxAdd = Array.from({ length: 10 }, () => ({ seq: ++seq, createdAt: now, spans: [] }));
        p.write({
          calls,
          claims: Array.from({ length: 100 }, (_, k) => ({
            id: eventId(base + k) + 'c'.repeat(200),
            expiresAt: now + HOUR,
          })),
          outboxAdd,
          outboxDelete: [],
        });
        p.write({ calls: new Map(), claims: [], outboxAdd: [], outboxDelete: outboxAdd.map((e) => e.seq) });
      }
      const filled = p.sizeBytes();
      now += HOUR;
      expect(p.compact(now, 100_000)).toBe(4000);
      // The freed pages went back to the file system (incremental vacuum, truncated WAL).
      expect(p.sizeBytes()).toBeLessThan(filled / 4);
      expect(p.countClaims()).toBe(0);
      expect(p.outboxCounts()).toEqual({ entries: 0, spans: 0 });
      sizes.push(p.sizeBytes());
    }
    const [first] = sizes;
    const last = sizes[sizes.length - 1];
    assert.ok(first !== undefined && last !== undefined);
    expect(last).toBeLessThanOrEqual(first * 1.5);
    // Sequence numbers keep increasing across a restart even with the outbox empty.
    p.close();
    const again = SqlitePersistence.open({ dir: join(root, `store-${n}`), sync: 'normal' });
    expect(again.maxOutboxSeq()).toBe(seq);
    again.close();
  });
});
