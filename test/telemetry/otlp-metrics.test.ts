// Optional OTLP metrics push: a real OTLP/HTTP receiver of our own reads what the exporter sends,
// over both transports, and the numbers equal what /metrics says.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { waitFor } from '../support/child.js';
import { sdkMetric } from '../support/events.js';
import { startExporter } from '../support/harness.js';
import { startOtlpReceiver, type OtlpMetricPoint } from '../support/otlp-receiver.js';
import { sampleValue } from '../support/prom.js';

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  test(`pushes cumulative metrics over OTLP ${protocol}, equal to the scrape`, async () => {
    const receiver = await startOtlpReceiver();
    // The OTLP exporter reads its endpoint from the standard variable, as in every OTel SDK.
    process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT = `${receiver.url}/v1/metrics`;
    const h = await startExporter({
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
    });
    try {
      const samples = [4, 9, 40].map((jitter, i) =>
        sdkMetric(`otlp-${protocol}`, { jitter, packets_received: 50 }, { second: i }),
      );
      assert.equal((await h.post(samples)).status, 200);
      const jitterPoint = (): OtlpMetricPoint | undefined =>
        receiver
          .metricPoints()
          .filter((p) => p.name === 'twilio_voice_interval_jitter_seconds' && p.count === 3)
          .at(-1);
      await receiver.waitFor(() => jitterPoint() !== undefined, 10_000);
      const point = jitterPoint();
      assert.ok(point);
      assert.equal(point.kind, 'histogram');
      assert.equal(point.temporality, 'cumulative');
      assert.equal(point.unit, 's');
      assert.deepEqual(point.attributes, {
        edge: 'sdk_edge',
        stream_direction: 'both',
        codec: 'opus',
        region: 'unknown',
      });
      const bounds = point.explicitBounds ?? [];
      assert.ok(bounds.includes(0.005) && bounds.includes(0.03), 'Twilio thresholds are bucket bounds');
      assert.deepEqual(point.bucketCounts?.slice(0, 4), [0, 0, 1, 1], 'le 1ms, 2.5ms, 5ms, 10ms');
      assert.equal(point.resource['service.name'], 'voice-insights-exporter');
      const scrape = await h.scrape();
      assert.equal(point.sum, sampleValue(scrape, 'twilio_voice_interval_jitter_seconds_sum', { edge: 'sdk_edge' }));
      const packets = receiver
        .metricPoints()
        .filter((p) => p.name === 'twilio_voice_packets_received')
        .at(-1);
      assert.equal(packets?.value, 150);
      assert.equal(packets?.monotonic, true);
      assert.ok(receiver.requests().every((r) => r.encoding === (protocol === 'http/json' ? 'json' : 'protobuf')));
    } finally {
      await h.stop();
      await receiver.close();
    }
  });
}

test('a backend that refuses pushes is counted in export_failures_total{signal="metrics"}', async () => {
  const receiver = await startOtlpReceiver({ status: 400 });
  process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT = `${receiver.url}/v1/metrics`;
  const h = await startExporter({ OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_METRIC_EXPORT_INTERVAL: '100' });
  try {
    await receiver.waitFor(() => receiver.requests().length >= 2, 10_000);
    const failures = async () =>
      sampleValue(await h.scrape(), 'voice_insights_exporter_export_failures_total', { signal: 'metrics' }) ?? 0;
    await waitFor('a counted metrics export failure', async () => (await failures()) >= 1);
  } finally {
    await h.stop();
    await receiver.close();
  }
});
