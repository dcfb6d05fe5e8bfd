import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { ManualClock } from '../../src/clock.js';
import { ActiveCalls } from '../../src/telemetry/active-calls.js';

test('a call is active on an edge for 60 s after its last sample or event', () => {
  const clock = new ManualClock();
  const active = new ActiveCalls(clock);
  active.touch('CA1', 'sdk_edge');
  active.touch('CA1', 'client_edge');
  active.touch('CA2', 'sdk_edge');
  assert.deepEqual(Object.fromEntries(active.countByEdge()), { sdk_edge: 2, client_edge: 1 });
  clock.advance(59_000);
  active.touch('CA2', 'sdk_edge');
  clock.advance(2_000);
  assert.deepEqual(Object.fromEntries(active.countByEdge()), { sdk_edge: 1 }, 'CA1 went quiet 61 s ago');
  clock.advance(60_001);
  assert.equal(active.countByEdge().size, 0);
});

test('the number of tracked calls is bounded', () => {
  const active = new ActiveCalls(new ManualClock(), 60_000, 100);
  for (let i = 0; i < 1000; i++) active.touch(`CA${i}`, 'sdk_edge');
  assert.equal(active.countByEdge().get('sdk_edge'), 100);
});
