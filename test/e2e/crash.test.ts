// The crash test (DESIGN section 6: "a kill -9 right after a 2xx loses nothing, and after restart every
// acknowledged event still reaches its trace exactly once").
//
// The BUILT exporter runs as a child process on one DATA_DIR (embedded SQLite store) and one port,
// under continuous signed load from 16 concurrent senders that behave like Twilio: anything not
// answered 2xx is sent again, and some deliveries are repeated after their 2xx (duplicates). The calls
// are the simulator's realistic ones: call events (gateway and SDK), metrics samples, partial and
// predicted-complete summaries, then the complete summary. While they run, the exporter is SIGKILLed
// at seeded random moments (some during start-up) at least 20 times and started again each time.
// Then the killing stops, every remaining delivery is made, the outbox drains, and the OTLP receiver's
// spans are audited:
// - every call has exactly one root span, built from its complete summary;
// - every call event (each was answered 2xx by the end) is a span event of its call's trace exactly
//   once, on the root span or on a late child span; for some calls one body of call events is only
//   delivered after the complete summary was acknowledged (out of order, as Twilio's retries are), and
//   those events must be on late spans;
// - a span exported again (a kill between the backend's accept and the outbox delete) is identical to
//   its first export, and such re-exports come in at most one run per kill;
// - the exporter never answered 4xx (Twilio would drop the delivery) and never exited by itself.
// Seed: CRASH_SEED (printed), so a failing schedule of kills can be run again.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import assert from '../support/assert.js';
import { rngFor, type Rng } from '../../src/sim/random.js';
import { ensureBuilt } from '../support/child.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { type RestartableExporter, sleep } from '../support/restartable.js';
import { auditSpans, byTrace, callsProblems } from '../support/call-traffic.js';
import { tracingExporter } from '../support/traced-exporter.js';
import {
  attempt,
  waitUntilDrained,
  heldBackNotOnLateSpans,
  newAccounts,
  startSenders,
  Traffic,
  type Delivery,
} from '../support/twilio-sender.js';

const TOKEN = 'crash-test-token-9b1e4f2a7c3d';
const SEED = Number(process.env['CRASH_SEED'] ?? 20_251_130);
const SENDERS = 16;
/** Calls being delivered at any moment (their deliveries interleave, as Twilio's do). */
const ACTIVE_CALLS = 24;
const KILLS_WANTED = 24;
const KILLS_MIN = 20;
/** The killing stops after KILLS_WANTED kills, or after this long once KILLS_MIN were made. */
const CHAOS_MAX_MS = 55_000;
/** A machine too slow for KILLS_MIN kills in this long fails the test. */
const CHAOS_HARD_MS = 100_000;
const DUPLICATE_SHARE = 0.08;

/** Share of calls one of whose call-event bodies is delivered only after the complete summary was acknowledged. */
const LATE_SHARE = 0.15;

let receiver: OtlpReceiver;
let exporter: RestartableExporter;

beforeAll(async () => {
  await ensureBuilt();
  receiver = await startOtlpReceiver();
  exporter = await tracingExporter(TOKEN, receiver, {
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    TRACE_EXPORT_RETRY_INITIAL_MS: '200',
  });
});

afterAll(async () => {
  await exporter?.dispose();
  await receiver?.close();
});

test('SIGKILL at random moments under signed load: every acknowledged call event reaches its trace exactly once', async () => {
  const started = Date.now();
  const testDeadline = started + 150_000;
  const traffic = new Traffic(rngFor(SEED, 'traffic'), {
    token: TOKEN,
    seed: SEED,
    activeCalls: ACTIVE_CALLS,
    duplicateShare: DUPLICATE_SHARE,
    lateShare: LATE_SHARE,
  });
  const killRng = rngFor(SEED, 'kills');
  const accounts = newAccounts();
  const { stats, acked, answered4xx } = accounts;

  const deliver = async (d: Delivery, rng: Rng): Promise<void> => {
    for (;;) {
      if (Date.now() > testDeadline) throw new Error('a delivery still failed at the test deadline');
      if ((await attempt(exporter.origin, d.request, accounts)) !== 'retry') return;
      await sleep(rng.between(20, 120));
    }
  };

  await exporter.startReady();
  const senders = startSenders(SENDERS, SEED, traffic, accounts, deliver);

  // Kill at random moments: mostly while serving, sometimes during start-up (before it listens).
  let kills = 0;
  const chaosEnd = Date.now() + CHAOS_MAX_MS;
  while (kills < KILLS_MIN || (kills < KILLS_WANTED && Date.now() < chaosEnd)) {
    if (Date.now() - started > CHAOS_HARD_MS) break;
    const duringStartUp = kills > 0 && killRng.chance(0.15);
    if (duringStartUp) await sleep(killRng.between(0, 350));
    else {
      await exporter.waitUntil('listening', 20_000);
      await sleep(killRng.between(100, 1800));
    }
    await exporter.kill('SIGKILL');
    kills++;
    exporter.start();
  }
  traffic.opening = false;
  const chaosMs = Date.now() - started;
  await exporter.waitUntil('ready', 20_000);
  await Promise.all(senders);
  const deliveredMs = Date.now() - started;

  // Every call event was acknowledged: the expected content of every trace is known.
  const calls = traffic.calls;
  const heldBack = traffic.heldBack;
  const allCallEvents = calls.flatMap((c) => c.callEvents.map((e) => e.id));
  const missingAcks = calls
    .flatMap((c) => [...c.callEvents, ...c.metrics, ...c.partials, c.complete])
    .filter((e) => !acked.has(e.id));
  assert.deepEqual(
    missingAcks.map((e) => e.id),
    [],
    'every CloudEvent is answered 2xx in the end',
  );

  // The outbox drains: wait until every call has its root span, nothing more arrives and the queue is empty.
  const drainStarted = Date.now();
  // On a timeout the audit below still runs, so a failure names the calls and events that are missing.
  const drained = await waitUntilDrained(receiver, calls, 30_000);
  const queued = await exporter.metric('voice_insights_exporter_trace_export_queue_spans');
  const drainMs = Date.now() - drainStarted;

  const spans = receiver.spans();
  const audit = auditSpans(spans);
  const traces = byTrace(audit.unique);
  const problems = callsProblems(calls, traces, { complete: true });
  const known = new Set(calls.map((c) => c.traceId));
  const strangers = [...traces.keys()].filter((t) => !known.has(t));
  const spanEvents = [...traces.values()].reduce((n, v) => n + v.eventTimes.length, 0);
  const lateSpans = [...traces.values()].reduce((n, v) => n + v.late.length, 0);

  const figures = {
    seed: SEED,
    kills,
    calls: calls.length,
    callEventsAcknowledged: allCallEvents.filter((id) => acked.has(id)).length,
    cloudEventsAcknowledged: acked.size,
    deliveriesAcknowledged: stats.deliveries,
    repeatedDeliveries: stats.repeats,
    attempts: stats.attempts,
    answered5xx: stats.answered5xx,
    networkErrors: stats.networkErrors,
    spansReceived: spans.length,
    uniqueSpans: audit.unique.length,
    heldBackCallEvents: heldBack.length,
    lateSpans,
    duplicateExports: audit.duplicateSpans,
    duplicateExportRuns: audit.duplicateRuns,
    chaosSeconds: chaosMs / 1000,
    allDeliveredSeconds: deliveredMs / 1000,
    drainSeconds: drainMs / 1000,
    durationSeconds: (Date.now() - started) / 1000,
  };
  console.info(`crash test figures: ${JSON.stringify(figures, null, 2)}`);

  assert.deepEqual(exporter.unexpectedExits, [], 'the exporter never exited by itself');
  assert.deepEqual(answered4xx, [], 'no delivery was answered 4xx');
  expect(kills).toBeGreaterThanOrEqual(KILLS_MIN);
  assert.deepEqual(
    problems.slice(0, 50),
    [],
    `each call: one root span, each call event exactly once (${problems.length} problems)`,
  );
  assert.ok(drained, 'the receiver got every root span and then nothing more');
  assert.equal(queued, 0, 'the outbox is empty');
  assert.equal(spanEvents, allCallEvents.length, 'span events are exactly the call events');
  // A call event first delivered after its call's complete summary was acknowledged is a late span; so
  // may be one whose delivery was still being retried after a kill when the complete summary got in.
  const heldInRoot = heldBackNotOnLateSpans(traffic, traces);
  assert.ok(heldBack.length > 0);
  assert.deepEqual(heldInRoot, [], 'each call event delivered after its complete summary is on a late span');
  expect(lateSpans).toBeGreaterThanOrEqual(heldBack.length);
  assert.deepEqual(strangers, [], 'no trace for a call that was never sent');
  assert.deepEqual(audit.conflicting, [], 'a span exported twice is the same span both times');
  expect(audit.duplicateRuns).toBeLessThanOrEqual(kills);

  // A clean stop after all that: SIGTERM exits 0.
  const exit = await exporter.terminate();
  assert.deepEqual(exit, { code: 0, signal: null }, exporter.logs().slice(-4000));
}, 180_000);
