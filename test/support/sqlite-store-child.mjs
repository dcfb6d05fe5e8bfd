// A second process on a SQLite state store, for test/store/sqlite-persistence.test.ts. Runs the BUILT
// code (dist/; the test builds it first).
//   commit DIR SYNC CONCURRENCY  commits units of work (a claim and a call each, every 10th finalised
//                                with an outbox entry) until killed; prints each unit's number after its
//                                commit resolved, so every printed number must survive a SIGKILL.
//   probe DIR                    tries to open the store; prints {"ok":true} or {"ok":false,"message":...}.
import { SqlitePersistence } from '../../dist/store/sqlite-persistence.js';
import { StagedStore } from '../../dist/store/staged-store.js';

const [mode, dir, sync = 'full', concurrency = '20'] = process.argv.slice(2);
const HOUR = 3_600_000;

const eventId = (i) => `EV${String(i).padStart(8, '0')}`;
const callSid = (i) => `CA${String(i).padStart(32, '0')}`;

function pendingCall(i, now) {
  return {
    status: 'pending',
    state: {
      callSid: callSid(i),
      accountSid: 'AC' + 'f'.repeat(32),
      lastActivityAt: now,
      earliestAt: now,
      latestAt: now,
      events: [{ name: 'answered', note: 'x'.repeat(800) }],
      eventIds: [eventId(i)],
      droppedEvents: 0,
      summary: undefined,
    },
  };
}

async function commitUntilKilled() {
  const clock = { now: () => Date.now() };
  const store = new StagedStore(SqlitePersistence.open({ dir, sync }), {
    clock,
    dedupTtlMs: 6 * HOUR,
    tombstoneTtlMs: 6 * HOUR,
  });
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const tx = store.begin();
      await tx.claim([eventId(i)]);
      await tx.update(callSid(i), () => ({ next: pendingCall(i, clock.now()), result: undefined }));
      if (i % 10 === 0) {
        await tx.update(callSid(i), () => ({
          next: {
            status: 'finalised',
            tombstone: {
              callSid: callSid(i),
              finalisedAt: clock.now(),
              reason: 'complete',
              summaryStage: 'complete',
              processingVersion: 1,
            },
          },
          outbox: [{ name: callSid(i) }],
          result: undefined,
        }));
      }
      await tx.commit();
      process.stdout.write(`${i}\n`);
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, worker));
}

function probe() {
  try {
    SqlitePersistence.open({ dir, sync: 'full', busyTimeoutMs: 100 }).close();
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, message: err.message }) + '\n');
  }
}

if (mode === 'commit') await commitUntilKilled();
else if (mode === 'probe') probe();
else throw new Error(`unknown mode ${mode}`);
