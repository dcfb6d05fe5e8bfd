import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { ManualClock } from '../../src/clock.js';
import { MemoryDedupStore } from '../../src/store/memory-dedup.js';

const HOUR = 3600_000;

test('an id is remembered for at least the TTL and forgotten soon after', async () => {
  const clock = new ManualClock();
  const store = new MemoryDedupStore({ ttlSeconds: 5 * 3600, maxEntries: 1000, clock });
  await store.remember(['EZ1']);
  assert.equal(await store.has('EZ1'), true);
  assert.equal(await store.has('EZ2'), false);
  clock.advance(5 * HOUR - 1);
  assert.equal(await store.has('EZ1'), true, 'still remembered just before the TTL');
  clock.advance((5 * HOUR) / 12 + 2);
  assert.equal(await store.has('EZ1'), false, 'forgotten one slice after the TTL');
  assert.equal(store.size(), 0);
});

test('remembering the same id twice counts it once', async () => {
  const clock = new ManualClock();
  const store = new MemoryDedupStore({ ttlSeconds: 5 * 3600, maxEntries: 1000, clock });
  await store.remember(['EZa', 'EZa', 'EZb']);
  await store.remember(['EZa']);
  assert.equal(store.size(), 2);
});

test('the entry cap bounds memory, dropping the oldest ids first and reporting it', async () => {
  const clock = new ManualClock();
  let evicted = 0;
  const store = new MemoryDedupStore({
    ttlSeconds: 5 * 3600,
    maxEntries: 100,
    clock,
    onEarlyEviction: (n) => (evicted += n),
  });
  for (let i = 0; i < 250; i++) {
    await store.remember([`EZ${i}`]);
    clock.advance(60_000);
  }
  assert.ok(store.size() <= 100);
  assert.equal(evicted, 250 - store.size());
  assert.equal(await store.has('EZ249'), true, 'the newest id is kept');
  assert.equal(await store.has('EZ0'), false, 'the oldest id went first');
});

test('a single slice over the cap is trimmed, not emptied', async () => {
  const clock = new ManualClock();
  const store = new MemoryDedupStore({ ttlSeconds: 5 * 3600, maxEntries: 10, clock });
  await store.remember(Array.from({ length: 25 }, (_, i) => `EZ${i}`));
  assert.equal(store.size(), 10);
  assert.equal(await store.has('EZ24'), true);
});
