// A real Prometheus on loopback scrapes the exporter after a posted sequence; PromQL over its HTTP
// API returns what the posted values imply. This is how dashboards and alert rules will see us.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { gatewayMetric, sdkEvent, sdkMetric } from '../support/events.js';
import { startExporter, type Harness } from '../support/harness.js';
import {
  INSTALL_HINT,
  prometheusAvailable,
  resultValues,
  startPrometheus,
  type PrometheusHandle,
} from '../support/prometheus.js';

let h: Harness;
let prom: PrometheusHandle;
const FIRST_SCRAPE_MS = 20_000;

beforeAll(async () => {
  assert.ok(prometheusAvailable(), INSTALL_HINT);
  h = await startExporter();
  // 20 SDK seconds with jitter 2..21 ms; two gateway intervals with 1 % and 6 % loss; three warnings.
  const sdk = Array.from({ length: 20 }, (_, i) =>
    sdkMetric(
      'prom-sdk',
      { jitter: i + 2, mos: i < 4 ? 3.2 : 4.3, packets_received: 50, packets_lost: 0 },
      { second: i },
    ),
  );
  const gw = [1, 6].map((pct, tick) =>
    gatewayMetric(
      'prom-gw',
      'sip_edge',
      'inbound',
      { packets_received: 495, packets_lost: 5, packets_loss_percentage: pct },
      { tick, region: 'de1' },
    ),
  );
  const warnings = ['high-jitter', 'high-jitter', 'low-mos'].map((name, i) =>
    sdkEvent('prom-sdk', 'network-quality-warning-raised', name, 'WARNING', i),
  );
  assert.equal((await h.post([...sdk, ...gw, ...warnings])).status, 200);
  prom = await startPrometheus({ targets: [new URL(h.metricsUrl).host] });
  await prom.waitForTargetsUp(FIRST_SCRAPE_MS);
});
afterAll(async () => {
  await prom?.stop();
  await h?.stop();
});

const single = async (promql: string): Promise<number> => {
  const r = await prom.waitForQuery(promql, (x) => resultValues(x).length > 0, FIRST_SCRAPE_MS);
  const values = resultValues(r);
  assert.equal(values.length, 1, `${promql} returns one series`);
  return values[0] ?? NaN;
};

test('histogram_quantile of jitter by edge interpolates inside the Twilio-threshold buckets', async () => {
  // rank 10 of 20 falls in (10 ms, 15 ms], which holds 5 values with 9 below: 10 + 5 * (10 - 9) / 5 = 11 ms.
  const p50 = await single(
    'histogram_quantile(0.5, sum by (le, edge) (twilio_voice_interval_jitter_seconds_bucket{edge="sdk_edge"}))',
  );
  assert.ok(Math.abs(p50 - 0.011) < 1e-9, `p50 ${p50}`);
});

test('the share of intervals above Twilio thresholds is a plain bucket ratio', async () => {
  const lowMos = await single('sum(twilio_voice_interval_mos_bucket{le="3.5"}) / sum(twilio_voice_interval_mos_count)');
  assert.equal(lowMos, 4 / 20);
  const lossy = await single(
    '1 - sum(twilio_voice_interval_packet_loss_ratio_bucket{edge="sip_edge",le="0.05"}) / sum(twilio_voice_interval_packet_loss_ratio_count{edge="sip_edge"})',
  );
  assert.equal(lossy, 0.5);
});

test('counters sum across label sets; warnings are queryable by name', async () => {
  assert.equal(await single('sum(twilio_voice_packets_received_total)'), 20 * 50 + 2 * 495);
  assert.equal(
    await single('sum(twilio_voice_call_events_total{group="network-quality-warning-raised",name="high-jitter"})'),
    2,
  );
  assert.equal(await single('sum(voice_insights_exporter_events_total{outcome="accepted"})'), 25);
  assert.equal(await single('voice_insights_exporter_ready'), 1);
});
