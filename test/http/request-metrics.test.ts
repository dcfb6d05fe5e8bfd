// voice_insights_exporter_webhook_requests_total and webhook_request_duration_seconds count requests to
// WEBHOOK_PATH only, over real HTTP on loopback: health probes (/readyz answers 503 while not ready) and
// unknown paths would dilute or inflate the 5xx share VoiceInsightsWebhook5xx alerts on.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startExporter, type Harness } from '../support/harness.js';
import { parseSamples } from '../support/prom.js';

const REQUESTS = 'voice_insights_exporter_webhook_requests_total';
const DURATION_COUNT = 'voice_insights_exporter_webhook_request_duration_seconds_count';

/** Every sample of the two request metrics, by name and code. */
async function requestSeries(h: Harness): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of parseSamples(await h.scrape())) {
    if (s.name === REQUESTS || s.name === DURATION_COUNT) out[`${s.name}{code="${s.labels['code'] ?? ''}"}`] = s.value;
  }
  return out;
}

/** /healthz, /readyz and paths the webhook port does not serve; returns the statuses answered. */
async function probe(h: Harness): Promise<number[]> {
  const origin = new URL(h.webhookUrl).origin;
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    statuses.push((await fetch(`${origin}/healthz`)).status);
    statuses.push((await fetch(`${origin}/readyz`)).status);
  }
  statuses.push((await fetch(`${origin}/nope`)).status);
  statuses.push((await fetch(`${origin}/nope`, { method: 'POST', body: '[]' })).status);
  return statuses;
}

function event(id: string): Record<string, unknown> {
  const [first] = loadFixtureEvents('call-metrics/sdk-edge-one-second-sample.json');
  assert.ok(first !== undefined);
  return { ...first, id };
}

describe('webhook request metrics count requests to WEBHOOK_PATH only', () => {
  test('not ready: /readyz answering 503 and /healthz are not counted; a webhook POST answered 503 is', async () => {
    const h = await startExporter({ TWILIO_AUTH_TOKEN: '' });
    try {
      const before = await requestSeries(h);
      assert.equal(before[`${REQUESTS}{code="503"}`], 0);
      assert.deepEqual(await probe(h), [200, 503, 200, 503, 200, 503, 404, 404]);
      assert.deepEqual(await requestSeries(h), before, 'probes and unknown paths leave the series as they were');

      assert.equal((await h.post([event('EZ000000000000000000000000000000a1')])).status, 503);
      const after = await requestSeries(h);
      assert.equal(after[`${REQUESTS}{code="503"}`], 1);
      assert.equal(after[`${DURATION_COUNT}{code="503"}`], 1);
      assert.deepEqual(
        { ...after, [`${REQUESTS}{code="503"}`]: 0, [`${DURATION_COUNT}{code="503"}`]: 0 },
        { ...before, [`${REQUESTS}{code="503"}`]: 0, [`${DURATION_COUNT}{code="503"}`]: 0 },
        'nothing else moved',
      );
    } finally {
      await h.stop();
    }
  });

  test('ready: probes are not counted; a delivery (200) and another method on WEBHOOK_PATH (405) are', async () => {
    const h = await startExporter();
    try {
      const before = await requestSeries(h);
      assert.deepEqual(await probe(h), [200, 200, 200, 200, 200, 200, 404, 404]);
      assert.deepEqual(await requestSeries(h), before);

      assert.equal((await h.post([event('EZ000000000000000000000000000000b1')])).status, 200);
      assert.equal((await fetch(h.webhookUrl)).status, 405);
      const after = await requestSeries(h);
      assert.equal(after[`${REQUESTS}{code="200"}`], 1);
      assert.equal(after[`${DURATION_COUNT}{code="200"}`], 1);
      assert.equal(after[`${REQUESTS}{code="405"}`], 1);
      assert.equal(after[`${REQUESTS}{code="404"}`], undefined, 'no 404 series: unknown paths are not counted');
    } finally {
      await h.stop();
    }
  });
});
