// When the simulator delivers: events and metrics within 90 s of their timestamp, partial summaries
// within ~10 min and the complete one up to 30 min after the call ends (reference §1), all divided by
// the speed; duplicates re-send the same id; no event is stamped later than it is delivered.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { planCall } from '../../src/sim/call-plan.js';
import { callCloudEvents } from '../../src/sim/cloudevents.js';
import { scheduleCall, timestampAnchor, type Delivery } from '../../src/sim/schedule.js';

const CREATED = Date.UTC(2026, 2, 14, 15, 0, 0);
const MIN = 60_000;

function deliveries(speed: number, count = 60, shares = { duplicateShare: 0, outOfOrderShare: 0 }): Delivery[] {
  return Array.from({ length: count }, (_, i) => {
    const plan = planCall(5, i, { badShare: 0.3 });
    return scheduleCall(plan, callCloudEvents(plan), CREATED, { speed, ...shares });
  }).flat();
}

/** Sim ms after the call's end at which a summary was emitted (speed 1: wall ms = sim ms). */
function afterEnd(d: Delivery): number {
  const endEpoch = d.clock.epochMs(d.event.atMs);
  return d.clock.emittedAtMs - endEpoch;
}

describe("delivery timing at speed 1 (Twilio's own timing)", () => {
  const all = deliveries(1);

  test('call events and metrics arrive within 90 s of their timestamp, most within seconds', () => {
    const lags = all.filter((d) => d.event.timing === 'realtime').map((d) => d.dueMs - d.clock.epochMs(d.event.atMs));
    assert.ok(
      lags.every((l) => l >= 0 && l <= 90_000),
      `max lag ${Math.max(...lags)}`,
    );
    const sorted = [...lags].sort((a, b) => a - b);
    assert.ok((sorted[Math.floor(sorted.length / 2)] ?? 0) < 45_000);
  });

  test('partials within ~10 min of the end, predicted-complete after them, complete by 30 min', () => {
    const byKind = (timing: string) => all.filter((d) => d.event.timing === timing).map(afterEnd);
    assert.ok(byKind('partial').every((t) => t > 0 && t <= 10 * MIN));
    assert.ok(byKind('predicted-complete').every((t) => t >= 10 * MIN && t <= 16 * MIN));
    assert.ok(byKind('complete').every((t) => t >= 29 * MIN && t <= 30 * MIN));
  });

  test("a call's summaries are emitted in processing order", () => {
    const first = all.filter((d) => d.callIndex === 0 && d.event.type.includes('call-summary'));
    const versions = first.map((d) =>
      Number((d.event.build(d.clock).data as Record<string, unknown>)['processing_version']),
    );
    const byTime = [...first].sort((a, b) => a.clock.emittedAtMs - b.clock.emittedAtMs);
    assert.deepEqual(
      byTime.map((d) => Number((d.event.build(d.clock).data as Record<string, unknown>)['processing_version'])),
      [...versions].sort((a, b) => a - b),
    );
  });
});

describe('speed', () => {
  test('every delay is divided by the speed', () => {
    const slow = deliveries(1, 10);
    const fast = deliveries(600, 10);
    assert.equal(slow.length, fast.length);
    const lastSlow = Math.max(...slow.map((d) => d.dueMs)) - CREATED;
    const lastFast = Math.max(...fast.map((d) => d.dueMs)) - CREATED;
    assert.ok(Math.abs(lastFast - lastSlow / 600) < 5, `${lastFast} vs ${lastSlow / 600}`);
    // At 600x the complete summary (30 min) lands about 3 s after the call.
    assert.ok(lastFast < 5_000);
  });

  test('no event is stamped later than it is emitted or delivered, at any speed', () => {
    for (const speed of [1, 60, 600, 5000]) {
      for (const d of deliveries(speed, 20)) {
        const stamped = d.clock.epochMs(d.event.atMs);
        assert.ok(stamped <= d.clock.emittedAtMs && d.clock.emittedAtMs <= d.dueMs, `speed ${speed}: ${d.event.type}`);
      }
    }
  });

  test("the timestamp anchor is whole seconds and puts the call's end at its compressed end", () => {
    const anchor = timestampAnchor(CREATED + 123, 120_000, 60);
    assert.equal(anchor % 1000, 0);
    assert.ok(anchor + 120_000 <= CREATED + 123 + 120_000 / 60);
  });
});

describe('duplicates and out-of-order delivery', () => {
  const all = deliveries(60, 60, { duplicateShare: 0.1, outOfOrderShare: 0.1 });

  test('a duplicate re-sends the same event (same id, same body) later', () => {
    const dups = all.filter((d) => d.duplicate);
    const originals = all.filter((d) => !d.duplicate);
    assert.ok(
      dups.length > originals.length * 0.05 && dups.length < originals.length * 0.15,
      `${dups.length} of ${originals.length}`,
    );
    for (const dup of dups) {
      const original = originals.find((o) => o.event === dup.event);
      assert.ok(original);
      assert.ok(dup.dueMs > original.dueMs);
      assert.equal(JSON.stringify(dup.event.build(dup.clock)), JSON.stringify(original.event.build(original.clock)));
    }
  });

  test('held-back events arrive after events stamped later', () => {
    const reordered = all.filter((d) => d.reordered);
    assert.ok(reordered.length > 0);
    assert.ok(reordered.every((d) => d.dueMs > d.clock.emittedAtMs));
  });
});
