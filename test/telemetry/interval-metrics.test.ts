// Exactness of the interval metrics: counts, sums and the bucket each known value falls in.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { gatewayMetric, sdkMetric } from '../support/events.js';
import { startExporter, type Harness } from '../support/harness.js';
import { parseSamples, sampleValue, type Sample } from '../support/prom.js';

const SDK = { edge: 'sdk_edge', stream_direction: 'both', codec: 'opus', region: 'unknown' };
const CARRIER_IN = { edge: 'carrier_edge', stream_direction: 'inbound', codec: 'pcmu', region: 'us1' };

let h: Harness;
let samples: Sample[];
// 20 SDK seconds of one call with known values: jitter 2..21 ms, rtt 400 ms on every 4th second, else 100 ms.
const jitterMs = Array.from({ length: 20 }, (_, i) => i + 2);
const rttMs = jitterMs.map((_, i) => (i % 4 === 0 ? 400 : 100));
const mos = jitterMs.map((_, i) => (i < 5 ? 3.5 : 4.4));

beforeAll(async () => {
  h = await startExporter();
  const sdk = jitterMs.map((j, i) =>
    sdkMetric(
      'exact-sdk',
      {
        jitter: j,
        rtt: rttMs[i],
        mos: mos[i],
        audio_in: 100,
        audio_out: 5000,
        packets_received: 50,
        packets_lost: i === 0 ? 1 : 0,
      },
      {
        second: i,
        cumulative: { packets_received: 50 * (i + 1), packets_lost: 1, packets_sent: 51 * (i + 1) },
      },
    ),
  );
  // Gateway: 6 intervals, loss 0, 1, 5, 5.5, 0, 0 percent; cumulative totals that must never be added.
  const loss = [0, 1, 5, 5.5, 0, 0];
  const gateway = loss.map((pct, tick) =>
    gatewayMetric(
      'exact-gw',
      'carrier_edge',
      'inbound',
      { packets_received: 500 - tick, packets_lost: tick, packets_loss_percentage: pct },
      {
        tick,
        cumulative: { packets_received: 500 * (tick + 1), packets_lost: 10, jitter_avg: 0.5 },
      },
    ),
  );
  const res = await h.post([...sdk, ...gateway]);
  assert.deepEqual(res.json, { accepted: 26, duplicate: 0, invalid: 0, unknown_type: 0 });
  samples = parseSamples(await h.scrape());
});
afterAll(() => h.stop());

const v = (name: string, labels: Record<string, string>) => sampleValue(samples, name, labels);

test('jitter: count, exact sum in seconds, and values on the 5 ms and 30 ms thresholds land in their buckets', () => {
  assert.equal(v('twilio_voice_interval_jitter_seconds_count', SDK), 20);
  const sum = v('twilio_voice_interval_jitter_seconds_sum', SDK) ?? NaN;
  assert.ok(Math.abs(sum - jitterMs.reduce((a, b) => a + b, 0) / 1000) < 1e-12, `sum ${sum}`);
  // le is inclusive: 2,3,4,5 ms are <= 0.005.
  assert.equal(v('twilio_voice_interval_jitter_seconds_bucket', { ...SDK, le: '0.005' }), 4);
  assert.equal(v('twilio_voice_interval_jitter_seconds_bucket', { ...SDK, le: '0.01' }), 9);
  assert.equal(v('twilio_voice_interval_jitter_seconds_bucket', { ...SDK, le: '0.02' }), 19);
  assert.equal(v('twilio_voice_interval_jitter_seconds_bucket', { ...SDK, le: '0.03' }), 20);
  assert.equal(v('twilio_voice_interval_jitter_seconds_bucket', { ...SDK, le: '+Inf' }), 20);
});

test('RTT at exactly 400 ms is inside le="0.4"; MOS 3.5 is inside le="3.5"', () => {
  assert.equal(v('twilio_voice_interval_rtt_seconds_bucket', { ...SDK, le: '0.3' }), 15);
  assert.equal(v('twilio_voice_interval_rtt_seconds_bucket', { ...SDK, le: '0.4' }), 20);
  assert.ok(Math.abs((v('twilio_voice_interval_rtt_seconds_sum', SDK) ?? NaN) - (15 * 0.1 + 5 * 0.4)) < 1e-12);
  assert.equal(v('twilio_voice_interval_mos_bucket', { ...SDK, le: '3.1' }), 0);
  assert.equal(v('twilio_voice_interval_mos_bucket', { ...SDK, le: '3.5' }), 5);
  assert.equal(v('twilio_voice_interval_mos_bucket', { ...SDK, le: '4.4' }), 20);
});

test('gateway loss from the interval percentage, as a ratio, cut exactly at 1 % and 5 %', () => {
  assert.equal(v('twilio_voice_interval_packet_loss_ratio_count', CARRIER_IN), 6);
  assert.equal(v('twilio_voice_interval_packet_loss_ratio_bucket', { ...CARRIER_IN, le: '0' }), 3);
  assert.equal(v('twilio_voice_interval_packet_loss_ratio_bucket', { ...CARRIER_IN, le: '0.01' }), 4);
  assert.equal(v('twilio_voice_interval_packet_loss_ratio_bucket', { ...CARRIER_IN, le: '0.05' }), 5);
  assert.equal(v('twilio_voice_interval_packet_loss_ratio_bucket', { ...CARRIER_IN, le: '0.1' }), 6);
  assert.ok(Math.abs((v('twilio_voice_interval_packet_loss_ratio_sum', CARRIER_IN) ?? NaN) - 0.115) < 1e-12);
  // Gateway intervals carry no jitter: it comes from the cumulative snapshots (a constant 0.5 ms average
  // over 500 more packets each time), once per sample, and the loss above is the interval's own, once.
  assert.equal(v('twilio_voice_interval_jitter_seconds_count', CARRIER_IN), 6);
  assert.ok(Math.abs((v('twilio_voice_interval_jitter_seconds_sum', CARRIER_IN) ?? NaN) - 6 * 0.0005) < 1e-12);
});

test('packet counters equal the sums of interval values; cumulative totals are never added', () => {
  assert.equal(v('twilio_voice_packets_received_total', SDK), 50 * 20);
  assert.equal(v('twilio_voice_packets_lost_total', SDK), 1);
  assert.equal(v('twilio_voice_packets_sent_total', SDK), undefined, 'SDK intervals sent no packets_sent');
  assert.equal(v('twilio_voice_packets_received_total', CARRIER_IN), 500 + 499 + 498 + 497 + 496 + 495);
  assert.equal(v('twilio_voice_packets_lost_total', CARRIER_IN), 0 + 1 + 2 + 3 + 4 + 5);
});

test('SDK loss without a percentage is derived from the interval counts', () => {
  assert.equal(v('twilio_voice_interval_packet_loss_ratio_count', SDK), 20);
  assert.ok(Math.abs((v('twilio_voice_interval_packet_loss_ratio_sum', SDK) ?? NaN) - 1 / 51) < 1e-12);
});

test('audio levels by channel on the raw scale', () => {
  assert.equal(v('twilio_voice_interval_audio_level_sum', { ...SDK, channel: 'in' }), 2000);
  assert.equal(v('twilio_voice_interval_audio_level_sum', { ...SDK, channel: 'out' }), 100_000);
});

test('active calls by edge counts each call once', () => {
  assert.equal(v('twilio_voice_active_calls', { edge: 'sdk_edge' }), 1);
  assert.equal(v('twilio_voice_active_calls', { edge: 'carrier_edge' }), 1);
  assert.equal(v('twilio_voice_active_calls', { edge: 'sip_edge' }), 0);
});

test('event lag is receive time minus event time', () => {
  const count = v('voice_insights_exporter_event_lag_seconds_count', {
    type: 'com.twilio.voice.insights.call-metrics.sdk',
  });
  assert.equal(count, 20);
});
