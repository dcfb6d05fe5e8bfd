// Interval figures from consecutive cumulative snapshots of one gateway stream, against hand-computed
// values, and through the reducer: replays and out-of-order snapshots change nothing.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { reduceCallMetric, type CallEffect, type ReduceContext } from '../../src/calls/call-reducer.js';
import { isConferenceRecord, type StoredCall } from '../../src/calls/ports.js';
import { stepStream, type StreamSnapshot } from '../../src/calls/stream-deltas.js';
import type { CallMetricSample, MetricValues } from '../../src/events/types.js';

const close = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

// The cumulative-only fixture's three snapshots (test/fixtures/call-metrics/gateway-carrier-cumulative-only.json), in seconds.
const S1: StreamSnapshot = { at: 10_000, received: 498, lost: 2, jitterAvg: 0.00048, jitterMax: 0.00148 };
const S2: StreamSnapshot = { at: 20_000, received: 996, lost: 4, jitterAvg: 0.00074, jitterMax: 0.0032 };
const S3: StreamSnapshot = { at: 30_000, received: 1496, lost: 4, jitterAvg: 0.001, jitterMax: 0.0095 };

describe('stepStream', () => {
  test('a sequence of cumulative snapshots gives the hand-computed interval jitter, packets and loss', () => {
    const a = stepStream(undefined, S1, {});
    // First snapshot, 500 packets (the call's first 10 s): its average is the interval's.
    assert.deepEqual(a.derived, {
      packetsReceived: 498,
      packetsLost: 2,
      packetLossRatio: 0.004,
      jitterSeconds: 0.00048,
    });
    const b = stepStream(a.next, S2, {});
    // (0.74 ms * 996 - 0.48 ms * 498) / (996 - 498) = (737.04 - 239.04) / 498 = 1 ms
    close(b.derived.jitterSeconds, 0.001, 'interval 2 jitter');
    assert.equal(b.derived.packetsReceived, 498);
    assert.equal(b.derived.packetsLost, 2);
    close(b.derived.packetLossRatio, 2 / 500, 'interval 2 loss');
    const c = stepStream(b.next, S3, {});
    // (1.0 ms * 1496 - 0.74 ms * 996) / 500 = (1496 - 737.04) / 500 = 1.51792 ms
    close(c.derived.jitterSeconds, 0.00151792, 'interval 3 jitter');
    assert.equal(c.derived.packetsReceived, 500);
    assert.equal(c.derived.packetsLost, 0);
    assert.equal(c.derived.packetLossRatio, 0);
    assert.deepEqual(c.next, S3);
  });

  test('interval values are never derived again: a real gateway sample only gains jitter', () => {
    const interval: MetricValues = { packetsReceived: 498, packetsLost: 0, packetLossRatio: 0 };
    const step = stepStream(S1, S2, interval);
    close(step.derived.jitterSeconds, 0.001, 'jitter');
    assert.deepEqual(Object.keys(step.derived), ['jitterSeconds']);
    // SDK-style interval jitter present: nothing to derive at all.
    assert.deepEqual(stepStream(S1, S2, { ...interval, jitterSeconds: { value: 0.002 } }).derived, {});
  });

  test('a replay (same timestamp) or an older snapshot changes nothing and derives nothing', () => {
    assert.deepEqual(stepStream(S2, S2, {}), { next: undefined, derived: {} });
    assert.deepEqual(stepStream(S2, S1, {}), { next: undefined, derived: {} });
  });

  test('a lower count is a reset: new baseline, no delta, no jitter', () => {
    const reset: StreamSnapshot = { at: 40_000, received: 20, lost: 0, jitterAvg: 0.0002, jitterMax: 0.0004 };
    const step = stepStream(S3, reset, {});
    assert.deepEqual(step.derived, {});
    assert.deepEqual(step.next, reset);
  });

  test('no packet in the interval: no jitter figure, zero deltas', () => {
    const idle: StreamSnapshot = { ...S2, at: 25_000 };
    assert.deepEqual(stepStream(S2, idle, {}).derived, { packetsReceived: 0, packetsLost: 0 });
  });

  test('weighted figure clamped to [0, max]', () => {
    // Rounded averages can make the weighted figure slightly negative or above the maximum.
    const low = stepStream(S1, { at: 20_000, received: 996, jitterAvg: 0.00023, jitterMax: 0.00148 }, {});
    assert.equal(low.derived.jitterSeconds, 0);
    const high = stepStream(S1, { at: 20_000, received: 996, jitterAvg: 0.005, jitterMax: 0.006 }, {});
    assert.equal(high.derived.jitterSeconds, 0.006);
  });

  test('without counts: the new maximum when max rose, else the cumulative average', () => {
    const p: StreamSnapshot = { at: 10_000, jitterAvg: 0.001, jitterMax: 0.004 };
    assert.equal(stepStream(p, { at: 20_000, jitterAvg: 0.0015, jitterMax: 0.012 }, {}).derived.jitterSeconds, 0.012);
    assert.equal(stepStream(p, { at: 20_000, jitterAvg: 0.0012, jitterMax: 0.004 }, {}).derived.jitterSeconds, 0.0012);
  });

  test('first snapshot of a long-running stream (joined late): baseline only for jitter, packets from zero', () => {
    const late: StreamSnapshot = { at: 600_000, received: 29_900, lost: 100, jitterAvg: 0.002, jitterMax: 0.02 };
    assert.deepEqual(stepStream(undefined, late, {}).derived, {
      packetsReceived: 29_900,
      packetsLost: 100,
      packetLossRatio: 100 / 30_000,
    });
    // No counts: the span is unknown, so no figure either.
    assert.deepEqual(stepStream(undefined, { at: 10_000, jitterAvg: 0.001 }, {}).derived, {});
  });

  test('a stream first seen without cumulative counts takes the next snapshot as baseline', () => {
    const bare: StreamSnapshot = { at: 10_000 };
    assert.deepEqual(stepStream(bare, S2, {}).derived, { jitterSeconds: 0.00074 });
  });
});

describe('reduceCallMetric', () => {
  const CALL = 'CA3f9c1e7a52b84d06a1e2c7d9b0f4a6e1';
  const ctx = (eventId: string): ReduceContext => ({ now: 1, eventId, receivedAt: 1, exposePii: false });
  const sample = (s: StreamSnapshot, source: 'gateway' | 'sdk' = 'gateway'): CallMetricSample => ({
    kind: 'call-metric',
    callSid: CALL,
    accountSid: undefined,
    timestamp: s.at,
    source,
    edge: source === 'gateway' ? 'carrier_edge' : 'sdk_edge',
    streamDirection: source === 'gateway' ? 'inbound' : 'both',
    codec: 'pcmu',
    region: 'us1',
    interval: {},
    cumulative: {
      packetsReceived: s.received,
      packetsLost: s.lost,
      jitterSeconds: { avg: s.jitterAvg, max: s.jitterMax },
    },
  });
  const jitters = (effects: CallEffect[]) =>
    effects.flatMap((e) => (e.kind === 'derived-sample' ? [e.values.jitterSeconds] : []));

  test('derives across updates, is a no-op on replay, and leaves the input untouched', () => {
    let stored: StoredCall | undefined;
    const out: (number | undefined)[] = [];
    for (const [i, s] of [S1, S2, S3].entries()) {
      const before = JSON.stringify(stored);
      const change = reduceCallMetric(stored, sample(s), ctx(`e${i}`));
      assert.equal(JSON.stringify(stored), before, 'input not mutated');
      out.push(...jitters(change.result));
      stored = change.next ?? stored;
    }
    assert.equal(out.length, 3);
    close(out[1], 0.001, 'second');
    close(out[2], 0.00151792, 'third');
    assert.ok(stored?.status === 'pending' && !isConferenceRecord(stored));
    assert.deepEqual(Object.keys(stored.state.streams ?? {}), ['carrier_edge/inbound']);
    // The same sample again (a retry after a conflict, or a redelivery): nothing derived, snapshot kept.
    const again = reduceCallMetric(stored, sample(S3), ctx('e2'));
    assert.deepEqual(again.result, []);
    assert.ok(again.next?.status === 'pending' && !isConferenceRecord(again.next));
    assert.equal(again.next.state.streams, stored.state.streams, 'unchanged snapshots kept by reference');
  });

  test('SDK samples keep no stream memory (their intervals carry everything)', () => {
    const change = reduceCallMetric(undefined, sample(S1, 'sdk'), ctx('s'));
    assert.deepEqual(change.result, []);
    assert.ok(change.next?.status === 'pending' && !isConferenceRecord(change.next));
    assert.equal(change.next.state.streams, undefined);
  });
});
