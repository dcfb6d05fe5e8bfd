// A carrier call whose gateway metrics carry jitter (and packets) only cumulatively: /metrics shows
// carrier-edge interval jitter from the first sample on, and the counters add differences of the
// snapshots, never the running totals (src/calls/stream-deltas.ts; README "Gateway jitter").
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startExporter, type Harness } from '../support/harness.js';
import { parseSamples, sampleValue } from '../support/prom.js';

const CARRIER_IN = { edge: 'carrier_edge', stream_direction: 'inbound', codec: 'pcmu', region: 'us1' };
const events = loadFixtureEvents('call-metrics/gateway-carrier-cumulative-only.json');

let h: Harness;
beforeAll(async () => {
  h = await startExporter();
});
afterAll(() => h.stop());

const scrape = async () => {
  const samples = parseSamples(await h.scrape());
  return (name: string, labels: Record<string, string> = CARRIER_IN) => sampleValue(samples, name, labels);
};

test('cumulative-only carrier samples: interval jitter at the next scrape, equal to the hand-computed figures', async () => {
  const [first, ...rest] = events;
  assert.ok(first !== undefined);
  assert.equal((await h.post([first])).status, 200);
  let v = await scrape();
  // The call's first 10 s: the cumulative average (0.48 ms) is that interval's.
  assert.equal(v('twilio_voice_interval_jitter_seconds_count'), 1);
  assert.equal(v('twilio_voice_interval_jitter_seconds_sum'), 0.00048);
  assert.equal(v('twilio_voice_packets_received_total'), 498);

  assert.equal((await h.post(rest)).status, 200);
  // A redelivery of the whole capture under the same ids is a duplicate; under new ids (a replay by
  // some other path) the snapshots' timestamps make it a no-op too.
  assert.equal((await h.post(events)).status, 200);
  assert.equal((await h.post(events.map((e, i) => ({ ...e, id: `EZ${'e'.repeat(31)}${i}` })))).status, 200);
  v = await scrape();
  // 0.48 ms, then (0.74*996 - 0.48*498)/498 = 1 ms, then (1.0*1496 - 0.74*996)/500 = 1.51792 ms.
  assert.equal(v('twilio_voice_interval_jitter_seconds_count'), 3);
  const sum = v('twilio_voice_interval_jitter_seconds_sum') ?? NaN;
  assert.ok(Math.abs(sum - 0.00299792) < 1e-12, `sum ${sum}`);
  assert.equal(v('twilio_voice_interval_jitter_seconds_bucket', { ...CARRIER_IN, le: '0.001' }), 2);
  // Counters: the last cumulative totals, reached by differences (498 + 498 + 500; 2 + 2 + 0).
  assert.equal(v('twilio_voice_packets_received_total'), 1496);
  assert.equal(v('twilio_voice_packets_lost_total'), 4);
  assert.equal(v('twilio_voice_interval_packet_loss_ratio_count'), 3);
  assert.ok(Math.abs((v('twilio_voice_interval_packet_loss_ratio_sum') ?? NaN) - 0.008) < 1e-12);
});
