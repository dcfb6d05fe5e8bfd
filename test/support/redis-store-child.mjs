// A replica's store in another process, for test/store/redis-store.test.ts: opens the BUILT RedisStore
// (dist/; the test builds it first), claims one event id in a unit of work that it never commits,
// prints "claimed N", and then waits to be killed (a replica that dies mid-request).
//   node redis-store-child.mjs URL PREFIX EVENT_ID
import { RedisStore } from '../../dist/store/redis/redis-store.js';

const [url, keyPrefix, id] = process.argv.slice(2);
const HOUR = 3_600_000;
const store = await RedisStore.open({
  url,
  keyPrefix,
  clock: { now: () => Date.now() },
  dedupTtlMs: 6 * HOUR,
  tombstoneTtlMs: 6 * HOUR,
  pendingCallTtlMs: 6 * HOUR,
  outboxTtlMs: 6 * HOUR,
  // Far longer than the test waits: the claim must be taken over because the heartbeat lapsed.
  pendingClaimMs: 60_000,
});
const tx = store.begin();
const fresh = await tx.claim([id]);
process.stdout.write(`claimed ${fresh.size}\n`);
setInterval(() => undefined, 60_000);
