// The run loop, in virtual time (injected clock, sleep and transport: no HTTP, no waiting), and a
// short real run against an in-process exporter whose /metrics must reconcile with the report.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { ManualClock } from '../../src/clock.js';
import type { CloudEvent } from '../../src/sim/cloudevents.js';
import type { SimReport } from '../../src/sim/report.js';
import type { Answer, Poster } from '../../src/sim/sender.js';
import { simulate, type SimulateOptions } from '../../src/sim/simulate.js';
import { startExporter, TEST_TOKEN, type Harness } from '../support/harness.js';
import { sampleSum, sampleValue } from '../support/prom.js';

const BASE: SimulateOptions = {
  target: 'http://127.0.0.1:1/events',
  publicUrl: 'http://127.0.0.1:1/events',
  token: 'unused',
  durationSeconds: 10,
  rate: 2,
  badShare: 0.3,
  speed: 1,
  seed: 4242,
  duplicateShare: 0.05,
  outOfOrderShare: 0.05,
  concurrency: 8,
};

/** Runs the simulator in virtual time; the transport records what was posted and answers `answer`. */
async function virtualRun(
  options: Partial<SimulateOptions> = {},
  answer: (n: number) => Answer = () => 200,
  stopAfterMs?: number,
) {
  const clock = new ManualClock(Date.UTC(2026, 2, 14, 15, 0, 0));
  const start = clock.now();
  const posted: { at: number; event: CloudEvent }[] = [];
  const poster: Poster = {
    post(body) {
      const events = JSON.parse(body.toString('utf8')) as CloudEvent[];
      assert.equal(events.length, 1, 'one CloudEvent per request, as Twilio sends today');
      posted.push({ at: clock.now(), event: events[0] as CloudEvent });
      return Promise.resolve(answer(posted.length));
    },
    close() {},
  };
  const stop = new AbortController();
  const report = await simulate(
    { ...BASE, ...options },
    {
      clock,
      poster,
      signal: stop.signal,
      sleep: (ms) => {
        clock.advance(ms);
        if (stopAfterMs !== undefined && clock.now() - start >= stopAfterMs) stop.abort();
        return Promise.resolve();
      },
    },
  );
  return { report, posted, elapsedMs: clock.now() - start };
}

describe("run loop in virtual time (speed 1: Twilio's real timing)", () => {
  test('calls start at the rate for the duration; everything is delivered, the complete summaries ~30 min later', async () => {
    const { report, posted, elapsedMs } = await virtualRun();
    assert.equal(report.calls.started, 20);
    assert.equal(report.events.undelivered, 0);
    assert.equal(report.events.sent, report.events.planned);
    assert.equal(report.events.delivered, report.events.planned);
    assert.equal(report.events.deliveries, posted.length);
    assert.equal(report.events.deliveries, report.events.sent + report.events.duplicatesSent);
    assert.ok(report.events.duplicatesSent > 0);
    assert.equal(report.calls.completeSummaryDelivered, 20);
    assert.deepEqual(report.http.byStatus, { '200': posted.length });
    assert.ok(elapsedMs > 29 * 60_000 && elapsedMs < 52 * 60_000, `ran ${elapsedMs / 60_000} virtual minutes`);
    // Unique ids match the report, and duplicates are re-sends of ids already posted.
    const ids = posted.map((p) => p.event.id);
    assert.equal(new Set(ids).size, report.events.sent);
    // Deliveries go out in due order, never before the event's own time.
    for (const p of posted) assert.ok(Date.parse(p.event.time) <= p.at);
    const byType = report.events.byType;
    const sum = Object.values(byType).reduce((s, c) => s + c.planned, 0);
    assert.equal(sum, report.events.planned);
    assert.equal(byType['com.twilio.voice.insights.call-summary.complete']?.delivered, 20);
    assert.equal(
      Object.values(report.calls.byType).reduce((a, b) => a + b, 0),
      20,
    );
    assert.equal(
      Object.values(report.calls.byOutcome).reduce((a, b) => a + b, 0),
      20,
    );
    assert.equal(
      report.intervalPackets.received,
      Object.values(report.intervalPackets.byEdge).reduce((s, e) => s + e.received, 0),
    );
  });

  test('the same seed replays the same traffic', async () => {
    const a = await virtualRun({ durationSeconds: 3 });
    const b = await virtualRun({ durationSeconds: 3 });
    assert.deepEqual(
      a.posted.map((p) => p.event.id),
      b.posted.map((p) => p.event.id),
    );
    assert.deepEqual({ ...a.report, startedAt: '', wallSeconds: 0 }, { ...b.report, startedAt: '', wallSeconds: 0 });
  });

  test('maxWaitSeconds bounds the final wait; what is left is reported undelivered', async () => {
    const { report, elapsedMs } = await virtualRun({ durationSeconds: 4, maxWaitSeconds: 120 });
    assert.ok(elapsedMs <= 124_000 + 1, `${elapsedMs}`);
    assert.ok(report.events.undelivered > 0);
    assert.equal(report.calls.completeSummaryDelivered, 0, 'complete summaries come 30 min after the end');
  });

  test('an abort stops the run and still returns the report', async () => {
    const { report, elapsedMs } = await virtualRun({ durationSeconds: Number.POSITIVE_INFINITY }, () => 200, 60_000);
    assert.equal(report.interrupted, true);
    assert.ok(elapsedMs >= 60_000 && elapsedMs < 75_000);
    assert.ok(report.calls.started >= 100);
    assert.equal(report.settings.durationSeconds, null);
  });

  test('answers are counted by status; only 2xx counts as delivered', async () => {
    const { report } = await virtualRun({ durationSeconds: 2, duplicateShare: 0 }, (n) =>
      n % 10 === 0 ? 503 : n % 17 === 0 ? 'timeout' : 200,
    );
    const failed = (report.http.byStatus['503'] ?? 0) + (report.http.byStatus['timeout'] ?? 0);
    assert.ok(failed > 0);
    assert.equal(report.events.delivered, report.events.sent - failed);
  });
});

describe("reconciliation with the exporter's /metrics", () => {
  let h: Harness;
  let report: SimReport;
  let metrics: string;

  beforeAll(async () => {
    h = await startExporter();
    // The harness verifies signatures against its own webhook URL.
    report = await simulate({
      ...BASE,
      target: h.webhookUrl,
      publicUrl: h.webhookUrl,
      token: TEST_TOKEN,
      durationSeconds: 2,
      rate: 5,
      speed: 600,
      seed: 20250314,
      concurrency: 16,
    });
    metrics = await h.scrape();
  });

  afterAll(async () => {
    await h.stop();
  });

  test('every delivery was answered 200 and nothing was left undelivered', () => {
    assert.deepEqual(report.http.byStatus, { '200': report.events.deliveries });
    assert.equal(report.events.undelivered, 0);
    assert.equal(report.calls.started, 10);
  });

  test('accepted events per type = unique events sent per type; no invalid events', () => {
    for (const [type, counts] of Object.entries(report.events.byType)) {
      assert.equal(
        sampleValue(metrics, 'voice_insights_exporter_events_total', { type, outcome: 'accepted' }),
        counts.delivered,
        type,
      );
      assert.equal(counts.delivered, counts.planned, type);
    }
    assert.equal(sampleSum(metrics, 'voice_insights_exporter_events_total', { outcome: 'invalid' }), 0);
    assert.equal(
      sampleSum(metrics, 'voice_insights_exporter_events_total', { outcome: 'accepted' }),
      report.events.delivered,
    );
  });

  test('duplicates counted = duplicates sent', () => {
    assert.ok(report.events.duplicatesSent > 0, 'the run should send some duplicates');
    assert.equal(
      sampleSum(metrics, 'voice_insights_exporter_events_total', { outcome: 'duplicate' }),
      report.events.duplicatesSent,
    );
  });

  test('interval packets: received, lost and sent totals match, per edge too', () => {
    assert.equal(sampleSum(metrics, 'twilio_voice_packets_received_total'), report.intervalPackets.received);
    assert.equal(sampleSum(metrics, 'twilio_voice_packets_lost_total'), report.intervalPackets.lost);
    assert.ok(report.intervalPackets.sent > 0, 'SDK samples carry packets sent');
    assert.equal(sampleSum(metrics, 'twilio_voice_packets_sent_total'), report.intervalPackets.sent);
    for (const [edge, counts] of Object.entries(report.intervalPackets.byEdge)) {
      assert.equal(sampleSum(metrics, 'twilio_voice_packets_received_total', { edge }), counts.received, edge);
      assert.equal(sampleSum(metrics, 'twilio_voice_packets_sent_total', { edge }), counts.sent, edge);
    }
  });

  test('calls finalised = calls whose complete summary was delivered', () => {
    assert.equal(report.calls.completeSummaryDelivered, report.calls.started);
    assert.equal(sampleSum(metrics, 'twilio_voice_calls_total'), report.calls.completeSummaryDelivered);
    for (const [type, n] of Object.entries(report.calls.byType))
      assert.equal(sampleSum(metrics, 'twilio_voice_calls_total', { call_type: type }), n, type);
    assert.equal(
      sampleSum(metrics, 'twilio_voice_calls_total', { call_state: 'fail' }),
      report.calls.byState['fail'] ?? 0,
    );
  });

  test('webhook requests by status agree', () => {
    assert.equal(
      sampleValue(metrics, 'voice_insights_exporter_webhook_requests_total', { code: '200' }),
      report.events.deliveries,
    );
  });
});
