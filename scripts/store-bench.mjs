// Commit throughput of StagedStore over the embedded SQLite store on this disk: one unit of work per
// flush (each request alone) against N concurrent units sharing one flush (group commit), with
// synchronous FULL and NORMAL. Each unit claims one CloudEvent id and writes one ~1 KB call row.
// Runs the built code: `npm run build && node scripts/store-bench.mjs [seconds per case] [dir]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlitePersistence } from '../dist/store/sqlite-persistence.js';
import { StagedStore } from '../dist/store/staged-store.js';

const seconds = Number(process.argv[2] ?? 3);
const root = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'vie-store-bench-'));
const clock = { now: () => Date.now() };
let id = 0;

function record(sid, eventId, now) {
  const state = {
    callSid: sid,
    accountSid: 'AC' + '0'.repeat(32),
    lastActivityAt: now,
    earliestAt: now,
    latestAt: now,
    events: [{ name: 'ringing', padding: 'x'.repeat(800) }],
    eventIds: [eventId],
    droppedEvents: 0,
  };
  return { status: 'pending', state };
}

async function unit(store) {
  const n = ++id;
  const eventId = `EV${n}`;
  const sid = `CA${String(n).padStart(32, '0')}`;
  const tx = store.begin();
  await tx.claim([eventId]);
  await tx.update(sid, () => ({ next: record(sid, eventId, clock.now()), result: undefined }));
  await tx.commit();
}

async function run(sync, perFlush) {
  const dir = join(root, `${sync}-${perFlush}`);
  let flushes = 0;
  const store = new StagedStore(SqlitePersistence.open({ dir, sync }), {
    clock,
    dedupTtlMs: 6 * 3_600_000,
    tombstoneTtlMs: 6 * 3_600_000,
    onFlush: () => flushes++,
  });
  let units = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    await Promise.all(Array.from({ length: perFlush }, () => unit(store)));
    units += perFlush;
  }
  const elapsed = (performance.now() - start) / 1000;
  store.close();
  const rate = Math.round(units / elapsed);
  console.log(
    `sync=${sync.padEnd(6)} units/flush=${String(perFlush).padEnd(3)} ${String(rate).padStart(7)} units/s` +
      `  ${String(Math.round(flushes / elapsed)).padStart(6)} flushes/s`,
  );
}

try {
  for (const sync of ['full', 'normal']) for (const perFlush of [1, 10, 50]) await run(sync, perFlush);
} finally {
  rmSync(root, { recursive: true, force: true });
}
