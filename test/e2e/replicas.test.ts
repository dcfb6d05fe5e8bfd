// Scale-out (DESIGN section 6): three exporter replicas on one Redis, one of them killed with SIGKILL
// at random moments, nothing acknowledged lost and nothing done twice.
//
// Three BUILT exporters run as child processes with STORE_URL on one real redis-server (append-only
// file synced on every write, as the README asks), each on its own ports and DATA_DIR. Signed
// deliveries of the simulator's realistic calls (call events, metrics samples, partial and complete
// summaries, some repeated after their 2xx, some call events held back until after the complete
// summary) are spread round-robin over the replicas by the test, which plays the load balancer and
// Twilio: anything not answered 2xx is sent again, to the next replica. Meanwhile a random replica is
// SIGKILLed at least 10 times, with requests in flight, and started again each time.
//
// Then:
// - every CloudEvent was acknowledged in the end, and never with a 4xx;
// - at the OTLP receiver every call has exactly one root span (whichever replica finalised it), and
//   every call event is a span event of its call's trace exactly once (held-back events on late spans,
//   routed to the trace by whichever replica got them); re-exports (a kill between the backend's
//   accept and the outbox delete) are identical and at most one run per kill;
// - calls whose complete summary never comes are finalised by the idle sweep of exactly one replica
//   (the sweep lease): one root span each, counted once;
// - sum over the replicas of `twilio_voice_calls_total` equals the number of calls finalised, and
//   `traces_finalised_total` by reason likewise.
//
// About that sum and the kills: a replica's counters are process memory and die with it (Prometheus
// keeps what it scraped before). So the test scrapes each replica right before killing it and adds
// that incarnation's last scrape to the sum. For that scrape to be its last word, no delivery that
// can finalise a call (a complete summary) is in flight on the victim at that moment: the test stops
// routing complete summaries to it and waits for those in flight to be answered, while the call
// events, samples and partial summaries in flight on it are killed mid-request. Calls that go idle
// are sent after the kills, so that no sweep runs between a scrape and a kill.
// Seed: REPLICAS_SEED (printed).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import assert from '../support/assert.js';
import { rngFor, type Rng } from '../../src/sim/random.js';
import { ensureBuilt, waitFor } from '../support/child.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { sampleSum } from '../support/prom.js';
import { RedisServer } from '../support/redis-server.js';
import { type RestartableExporter, sleep } from '../support/restartable.js';
import { auditSpans, byTrace, callsProblems } from '../support/call-traffic.js';
import { tracingExporter } from '../support/traced-exporter.js';
import {
  attempt,
  heldBackNotOnLateSpans,
  newAccounts,
  startSenders,
  Traffic,
  waitUntilDrained,
  type Delivery,
  type Outcome,
} from '../support/twilio-sender.js';

const TOKEN = 'replicas-test-token-5c1d9e7a2b';
const SEED = Number(process.env['REPLICAS_SEED'] ?? 20_261_130);
const REPLICAS = 3;
const SENDERS = 12;
const ACTIVE_CALLS = 24;
const KILLS_MIN = 10;
const KILLS_WANTED = 12;
/** The killing stops after KILLS_WANTED kills, or after this long once KILLS_MIN were made. */
const CHAOS_MAX_MS = 40_000;
const CHAOS_HARD_MS = 70_000;
const DUPLICATE_SHARE = 0.08;
const LATE_SHARE = 0.15;
/** Calls sent without a complete summary after the kills: the idle sweep finalises them. */
const ABANDONED_CALLS = 12;
const IDLE_TIMEOUT_S = 10;

let redis: RedisServer;
let receiver: OtlpReceiver;
const replicas: RestartableExporter[] = [];

beforeAll(async () => {
  await ensureBuilt();
  [redis, receiver] = await Promise.all([RedisServer.start(), startOtlpReceiver()]);
  for (let i = 0; i < REPLICAS; i++) {
    replicas.push(
      await tracingExporter(TOKEN, receiver, {
        STORE_URL: redis.url,
        STORE_KEY_PREFIX: `replicas-${process.pid}:`,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
        TRACE_EXPORT_RETRY_INITIAL_MS: '200',
        CALL_IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_S),
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.dispose()));
  await receiver?.close();
  await redis?.dispose();
});

const CALLS_TOTAL = 'twilio_voice_calls_total';
const FINALISED = 'voice_insights_exporter_traces_finalised_total';

test('three replicas on one Redis, one SIGKILLed at random at least 10 times: every acknowledged event once, one root span per call, metrics add up', async () => {
  const started = Date.now();
  const testDeadline = started + 110_000;
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
  const perReplica = replicas.map(() => ({ acknowledged: 0 }));
  /** Deliveries in flight per replica, and those of them that can finalise a call. */
  const inFlight = replicas.map(() => ({ all: 0, finalising: 0 }));
  /** A replica about to be killed: no complete summary is routed to it. */
  let draining: number | undefined;
  let rr = 0;
  /** Counter values of killed incarnations, as last scraped. */
  const killed = { calls: 0, complete: 0, idle: 0 };
  const killLog: { replica: number; inFlight: number }[] = [];

  const deliver = async (d: Delivery, rng: Rng): Promise<void> => {
    for (;;) {
      if (Date.now() > testDeadline) throw new Error('a delivery still failed at the test deadline');
      let target = rr++ % REPLICAS;
      if (d.finalising && target === draining) target = rr++ % REPLICAS;
      const slot = inFlight[target];
      const replica = replicas[target];
      assert.ok(slot !== undefined && replica !== undefined);
      slot.all++;
      if (d.finalising) slot.finalising++;
      let outcome: Outcome;
      try {
        outcome = await attempt(replica.origin, d.request, accounts);
      } finally {
        slot.all--;
        if (d.finalising) slot.finalising--;
      }
      if (outcome === 'acknowledged') {
        const counted = perReplica[target];
        if (counted !== undefined) counted.acknowledged++;
      }
      if (outcome !== 'retry') return;
      await sleep(rng.between(10, 60));
    }
  };

  await Promise.all(replicas.map((r) => r.startReady(30_000)));
  const senders = startSenders(SENDERS, SEED, traffic, accounts, deliver);

  // Kill a random replica at random moments, with requests in flight on it, and start it again.
  let kills = 0;
  const chaosEnd = Date.now() + CHAOS_MAX_MS;
  while (kills < KILLS_MIN || (kills < KILLS_WANTED && Date.now() < chaosEnd)) {
    if (Date.now() - started > CHAOS_HARD_MS) break;
    await sleep(killRng.between(800, 2500));
    const victim = killRng.int(0, REPLICAS - 1);
    const replica = replicas[victim];
    const slot = inFlight[victim];
    assert.ok(replica !== undefined && slot !== undefined);
    await replica.waitUntil('ready', 30_000);
    draining = victim;
    await waitFor('the victim to answer its complete summaries in flight', () => slot.finalising === 0, {
      timeoutMs: 15_000,
      intervalMs: 2,
    });
    const page = await replica.scrape();
    const requestsInFlight = slot.all;
    await replica.kill('SIGKILL');
    draining = undefined;
    killed.calls += sampleSum(page, CALLS_TOTAL, {});
    killed.complete += sampleSum(page, FINALISED, { reason: 'complete' });
    killed.idle += sampleSum(page, FINALISED, { reason: 'idle' });
    killLog.push({ replica: victim, inFlight: requestsInFlight });
    kills++;
    replica.start();
  }
  const chaosMs = Date.now() - started;
  await Promise.all(replicas.map((r) => r.waitUntil('ready', 30_000)));

  // After the kills: calls whose complete summary never comes, finalised by the idle sweep.
  traffic.opening = false;
  traffic.openAbandoned(ABANDONED_CALLS);
  await Promise.all(senders);
  const deliveredMs = Date.now() - started;

  const calls = [...traffic.calls, ...traffic.abandoned];
  const missingAcks = [
    ...traffic.calls.flatMap((c) => [...c.callEvents, ...c.metrics, ...c.partials, c.complete]),
    ...traffic.abandoned.flatMap((c) => [...c.callEvents, ...c.metrics, ...c.partials]),
  ].filter((e) => !acked.has(e.id));
  assert.deepEqual(
    missingAcks.map((e) => e.id),
    [],
    'every CloudEvent is answered 2xx in the end',
  );

  // The outbox drains (the idle calls after CALL_IDLE_TIMEOUT_SECONDS and a sweep).
  const drained = await waitUntilDrained(receiver, calls, 40_000);
  const pages = await Promise.all(replicas.map((r) => r.scrape()));
  const live = {
    calls: pages.reduce((n, p) => n + sampleSum(p, CALLS_TOTAL, {}), 0),
    complete: pages.reduce((n, p) => n + sampleSum(p, FINALISED, { reason: 'complete' }), 0),
    idle: pages.reduce((n, p) => n + sampleSum(p, FINALISED, { reason: 'idle' }), 0),
    queued: pages.reduce((n, p) => n + sampleSum(p, 'voice_insights_exporter_trace_export_queue_spans', {}), 0),
  };

  const spans = receiver.spans();
  const audit = auditSpans(spans);
  const traces = byTrace(audit.unique);
  const problems = [
    ...callsProblems(traffic.calls, traces, { complete: true }),
    ...callsProblems(traffic.abandoned, traces, { complete: false }),
  ];
  const known = new Set(calls.map((c) => c.traceId));
  const strangers = [...traces.keys()].filter((t) => !known.has(t));
  const allCallEvents = calls.flatMap((c) => c.callEvents.map((e) => e.id));
  const spanEvents = [...traces.values()].reduce((n, v) => n + v.eventTimes.length, 0);
  const heldInRoot = heldBackNotOnLateSpans(traffic, traces);
  const idleRoots = traffic.abandoned.filter(
    (c) => traces.get(c.traceId)?.roots[0]?.attributes['twilio.finalised_by'] === 'idle',
  ).length;

  const figures = {
    seed: SEED,
    replicas: REPLICAS,
    kills,
    killedWithRequestsInFlight: killLog.filter((k) => k.inFlight > 0).length,
    requestsInFlightAtKills: killLog.reduce((n, k) => n + k.inFlight, 0),
    calls: calls.length,
    completeCalls: traffic.calls.length,
    idleCalls: traffic.abandoned.length,
    callEventsAcknowledged: allCallEvents.filter((id) => acked.has(id)).length,
    cloudEventsAcknowledged: acked.size,
    deliveriesAcknowledged: stats.deliveries,
    acknowledgedPerReplica: perReplica.map((r) => r.acknowledged),
    repeatedDeliveries: stats.repeats,
    attempts: stats.attempts,
    answered5xx: stats.answered5xx,
    networkErrors: stats.networkErrors,
    spansReceived: spans.length,
    uniqueSpans: audit.unique.length,
    duplicateExports: audit.duplicateSpans,
    duplicateExportRuns: audit.duplicateRuns,
    heldBackCallEvents: traffic.heldBack.length,
    callsTotalSum: killed.calls + live.calls,
    callsTotalOfKilledIncarnations: killed.calls,
    finalisedComplete: killed.complete + live.complete,
    finalisedIdle: killed.idle + live.idle,
    chaosSeconds: chaosMs / 1000,
    allDeliveredSeconds: deliveredMs / 1000,
    durationSeconds: (Date.now() - started) / 1000,
  };
  console.info(`replicas test figures: ${JSON.stringify(figures, null, 2)}`);

  assert.deepEqual(
    replicas.flatMap((r) => r.unexpectedExits),
    [],
    'no replica exited by itself',
  );
  assert.deepEqual(answered4xx, [], 'no delivery was answered 4xx');
  expect(kills).toBeGreaterThanOrEqual(KILLS_MIN);
  expect(figures.killedWithRequestsInFlight).toBeGreaterThan(0);
  assert.deepEqual(
    problems.slice(0, 50),
    [],
    `each call: one root span, each call event exactly once (${problems.length} problems)`,
  );
  assert.ok(drained, 'the receiver got every root span and then nothing more');
  assert.equal(live.queued, 0, 'the outbox is empty');
  assert.equal(spanEvents, allCallEvents.length, 'span events are exactly the call events');
  assert.ok(traffic.heldBack.length > 0);
  assert.deepEqual(heldInRoot, [], 'each call event delivered after its complete summary is on a late span');
  assert.equal(idleRoots, traffic.abandoned.length, 'each abandoned call: a root span from the idle sweep');
  assert.deepEqual(strangers, [], 'no trace for a call that was never sent');
  assert.deepEqual(audit.conflicting, [], 'a span exported twice is the same span both times');
  expect(audit.duplicateRuns).toBeLessThanOrEqual(kills);
  // Every replica served: the load balancer really spread the deliveries.
  for (const r of perReplica) expect(r.acknowledged).toBeGreaterThan(stats.deliveries / (2 * REPLICAS));
  assert.equal(figures.callsTotalSum, calls.length, `sum(${CALLS_TOTAL}) over replicas = calls finalised`);
  assert.equal(figures.finalisedComplete, traffic.calls.length, 'finalised by a complete summary, once each');
  assert.equal(figures.finalisedIdle, traffic.abandoned.length, 'finalised by the idle sweep, once each');

  const exits = await Promise.all(replicas.map((r) => r.terminate()));
  assert.deepEqual(
    exits,
    replicas.map(() => ({ code: 0, signal: null })),
  );
}, 150_000);
