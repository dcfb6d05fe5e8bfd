// The run loop, in virtual time (injected clock, sleep and transport: no HTTP, no waiting), and a
// short real run against an in-process exporter whose /metrics must reconcile with the report, calls
// and conferences alike.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { ManualClock } from '../../src/clock.js';
import type { CloudEvent } from '../../src/sim/cloudevents.js';
import type { SimReport } from '../../src/sim/report.js';
import type { Answer, Poster } from '../../src/sim/sender.js';
import { DEFAULT_CONFERENCE_SHARE, simulate, type SimulateOptions } from '../../src/sim/simulate.js';
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
  // Plain calls only, so call counts are the rate times the duration; conferences are tested apart.
  conferenceShare: 0,
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

describe('conferences in virtual time', () => {
  /** Each posted CloudEvent once (duplicates re-send an id). */
  const unique = (posted: { event: CloudEvent }[]) => [...new Map(posted.map((p) => [p.event.id, p.event])).values()];
  const data = (e: CloudEvent) => e.data as Record<string, unknown>;
  const tally = (values: readonly unknown[]) => {
    const out: Record<string, number> = {};
    for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
    return out;
  };

  test('the report counts what was posted: conferences by status, end reason and tag; legs; participants by call type, direction and role', async () => {
    const { report, posted } = await virtualRun({ durationSeconds: 20, conferenceShare: 0.5, speed: 60 });
    const events = unique(posted);
    const ofType = (type: string) => events.filter((e) => e.type === type);
    const completes = ofType('com.twilio.voice.insights.conference-summary.complete');
    const participants = ofType('com.twilio.voice.insights.conference-participant-summary.complete');
    const c = report.conferences;
    assert.equal(report.settings.conferenceShare, 0.5);
    assert.ok(c.started >= 10 && c.started <= 30, `${c.started} of 40 new calls became conferences`);
    assert.equal(completes.length, c.started);
    assert.equal(c.completeSummaryDelivered, c.started);
    assert.deepEqual(c.byStatus, tally(completes.map((e) => data(e)['status'])));
    assert.deepEqual(c.byEndReason, tally(completes.map((e) => data(e)['end_reason'])));
    assert.deepEqual(c.byTag, tally(completes.flatMap((e) => data(e)['tags'] as string[])));
    assert.deepEqual(c.byParticipants, tally(completes.map((e) => data(e)['unique_participants'])));
    assert.equal(participants.length, c.participants.planned);
    assert.equal(c.participants.summaryDelivered, c.participants.planned);
    assert.deepEqual(c.participants.byLabel, tally(participants.map((e) => data(e)['label'])));
    assert.deepEqual(c.participants.byCallType, tally(participants.map((e) => data(e)['call_type'])));
    assert.deepEqual(c.participants.byDirection, tally(participants.map((e) => data(e)['call_direction'])));
    const role = (d: Record<string, unknown>) =>
      d['is_coach'] === true ? 'coach' : d['is_moderator'] === true ? 'moderator' : 'participant';
    assert.deepEqual(c.participants.byRole, tally(participants.map((e) => role(data(e)))));
    const held = participants.filter((e) => Array.isArray((data(e)['events'] as Record<string, unknown>)['hold']));
    assert.equal(c.participants.held, held.length);
    // Every leg is a call of its own: 40 new calls, each conference adding its other legs.
    const callSids = new Set(events.map((e) => data(e)['call_sid']).filter((x) => x !== undefined));
    assert.equal(report.calls.started, 40 - c.started + c.legs);
    assert.equal(callSids.size, report.calls.started);
    assert.equal(report.calls.completeSummaryDelivered, report.calls.started);
    const inConference = ofType('com.twilio.voice.insights.call-summary.complete').filter(
      (e) => (data(e)['attributes'] as Record<string, unknown>)['conference_participant'] === true,
    );
    assert.equal(inConference.length, c.participants.planned);
    assert.equal(report.events.delivered, report.events.planned);
  });

  test('without conferenceShare a run has conferences at the default share', async () => {
    // An explicit undefined stands for a caller that never set it (the ops test, older scripts).
    const { report } = await virtualRun({ conferenceShare: undefined, durationSeconds: 30 });
    assert.equal(report.settings.conferenceShare, DEFAULT_CONFERENCE_SHARE);
    assert.ok(report.conferences.started > 0 && report.conferences.started < 30, `${report.conferences.started}`);
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
      conferenceShare: 0.5,
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
    // 10 new calls; each conference among them adds its other legs.
    assert.ok(report.conferences.started > 0, 'the run should start some conferences');
    assert.equal(report.calls.started, 10 - report.conferences.started + report.conferences.legs);
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
  test('conferences finalised = conferences whose complete summary was delivered, by status and end reason', () => {
    const c = report.conferences;
    assert.equal(c.completeSummaryDelivered, c.started);
    assert.equal(sampleSum(metrics, 'twilio_voice_conferences_total'), c.completeSummaryDelivered);
    assert.equal(
      sampleValue(metrics, 'voice_insights_exporter_conferences_finalised_total', { reason: 'complete' }),
      c.started,
    );
    for (const [status, n] of Object.entries(c.byStatus))
      assert.equal(sampleSum(metrics, 'twilio_voice_conferences_total', { status }), n, status);
    for (const [reason, n] of Object.entries(c.byEndReason))
      assert.equal(sampleSum(metrics, 'twilio_voice_conferences_total', { end_reason: reason }), n, reason);
    // Every conference tag series is preset; those the run never produced stay at 0.
    const tagged = sampleSum(metrics, 'twilio_voice_conference_tags_total');
    assert.equal(
      tagged,
      Object.values(c.byTag).reduce((a, b) => a + b, 0),
    );
    for (const [tag, n] of Object.entries(c.byTag))
      assert.equal(sampleValue(metrics, 'twilio_voice_conference_tags_total', { tag }), n, tag);
    assert.equal(
      sampleSum(metrics, 'twilio_voice_conference_participants_count', { kind: 'unique' }),
      c.completeSummaryDelivered,
    );
    assert.equal(
      sampleSum(metrics, 'twilio_voice_conference_participants_sum', { kind: 'unique' }),
      Object.entries(c.byParticipants).reduce((a, [k, n]) => a + Number(k) * n, 0),
    );
  });

  test('participants counted = participant summaries delivered, by call type, direction and role', () => {
    const p = report.conferences.participants;
    assert.ok(p.planned >= 2 * report.conferences.started - (report.conferences.byStatus['not_started'] ?? 0));
    assert.equal(p.summaryDelivered, p.planned);
    assert.equal(sampleSum(metrics, 'twilio_voice_conference_participants_total'), p.summaryDelivered);
    for (const [callType, n] of Object.entries(p.byCallType))
      assert.equal(sampleSum(metrics, 'twilio_voice_conference_participants_total', { call_type: callType }), n);
    for (const [direction, n] of Object.entries(p.byDirection))
      assert.equal(sampleSum(metrics, 'twilio_voice_conference_participants_total', { call_direction: direction }), n);
    for (const [role, n] of Object.entries(p.byRole))
      assert.equal(sampleSum(metrics, 'twilio_voice_conference_participants_total', { role }), n, role);
    // One duration per participant.
    assert.equal(sampleSum(metrics, 'twilio_voice_conference_participant_duration_seconds_count'), p.planned);
  });
});
