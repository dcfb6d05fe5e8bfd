// Every query the ops bundle ships, evaluated by a real Prometheus scraping an in-process exporter
// fed realistic traffic: each dashboard target, each dashboard variable and each alert expression
// must parse and execute, and the ones this traffic populates must return data. The rule file must
// load with every rule healthy, and the alerts the traffic trips must go pending.
//
// The traffic comes in two rounds with the same label sets: round 1 creates every series before
// Prometheus' first scrape, round 2 moves them after it, so rate() has two samples to work with and
// histogram quantiles are finite. It is deliberately bad (a fifth of the intervals beyond Twilio's
// thresholds, a third of the calls failing, slow post-dial delay, a quarter of the conferences failing
// to start and a third tagged for quality) so the quality alerts trip.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { callSid, eventId, gatewayMetric, sdkEvent, sdkMetric } from '../support/events.js';
import {
  conferenceSid,
  conferenceSummary,
  participantSummary,
  threeLegConference,
  type ConferenceSummaryOptions,
} from '../support/conference-traffic.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { startExporter, type Harness } from '../support/harness.js';
import { parseSamples } from '../support/prom.js';
import { T0 } from '../support/span-tree.js';
import {
  INSTALL_HINT,
  prometheusAvailable,
  resultValues,
  startPrometheus,
  type PrometheusHandle,
} from '../support/prometheus.js';
import {
  RULES_FILE,
  alertQueries,
  dashboardQueries,
  describeFailures,
  evaluateOpsQueries,
  loadAlertRules,
  type OpsQueryResult,
} from '../support/ops-queries.js';

/** Alerts the bad traffic below trips (their expressions return data). */
const TRIPPED = [
  'TwilioVoiceHighPacketLoss',
  'TwilioVoiceHighJitter',
  'TwilioVoiceLowMos',
  'TwilioVoiceHighRtt',
  'TwilioVoiceHighPostDialDelay',
  'TwilioVoiceFailedCallRatioHigh',
  'TwilioVoiceConferenceStartFailures',
  'TwilioVoiceConferenceQualityWarnings',
  'VoiceInsightsSignatureFailures',
  // Builder events carry fixed 2026-11-24 timestamps and fixtures 2025 ones: hours of lag.
  'VoiceInsightsEventLagHigh',
  'VoiceInsightsDeadLetters',
  'VoiceInsightsLabelOverflow',
] as const;
/** Alerts that must stay quiet: the exporter is ready, answers no 5xx, exports nothing (traces off). */
const QUIET = [
  'VoiceInsightsExporterNotReady',
  'VoiceInsightsWebhook5xx',
  'VoiceInsightsExportFailing',
  'VoiceInsightsSpansDropped',
] as const;

const FIRST_SCRAPE_MS = 20_000;
type Event = Record<string, unknown>;

/** A fixture CloudEvent with a fresh id and, for call data, a call of our own. */
function fromFixture(
  rel: string,
  call?: string,
  edit: (data: Record<string, unknown>) => void = () => undefined,
): Event {
  const [first] = loadFixtureEvents(rel);
  assert.ok(first !== undefined, rel);
  const event = structuredClone(first);
  event['id'] = eventId(rel);
  const data = event['data'];
  if (call !== undefined && typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const record = data as Record<string, unknown>;
    const sid = callSid(call);
    record['call_sid'] = sid;
    event['source'] = String(event['source']).replace(/CA[0-9a-f]{32}/i, sid);
    edit(record);
  }
  return event;
}

function withPdd(ms: number): (data: Record<string, unknown>) => void {
  return (data) => {
    const properties = data['properties'];
    if (typeof properties === 'object' && properties !== null) (properties as Record<string, unknown>)['pdd_ms'] = ms;
  };
}

/**
 * 12 conferences finalised per round (each with its complete summary and every leg it counts), from
 * threeLegConference (carrier customer, client agent added through the API, SIP supervisor coaching):
 * 6 of all three legs, 3 that never started (the customer alone, start_failure), 3 of customer and
 * agent; 4 tagged quality_warnings and high_jitter.
 */
function conferences(r: number): Event[] {
  const out: Event[] = [];
  for (let i = 0; i < 12; i++) {
    const c = threeLegConference(`ops-conf-${r}-${i}`, i * 60_000);
    const [customer, agent] = c.participants;
    const complete = (uniqueParticipants: number, opts: ConferenceSummaryOptions) =>
      conferenceSummary(c.sid, 'complete', { create: c.start, end: c.end, uniqueParticipants, ...opts });
    const quality = i % 3 === 0 ? { tags: ['quality_warnings', 'high_jitter'] } : {};
    if (i % 4 === 3) {
      out.push(
        customer,
        complete(1, {
          end: c.start + 30_000,
          status: 'not_started',
          tags: ['start_failure', 'no_concurrent_participants'],
        }),
      );
    } else if (i % 4 === 2) {
      out.push(customer, agent, complete(2, quality));
    } else {
      out.push(...c.participants, complete(3, { ...quality, endReason: 'conference_ended_via_api' }));
    }
  }
  // A leg whose summary comes after its conference was finalised (previous round): a late participant.
  if (r > 0) {
    const name = `ops-conf-${r - 1}-0`;
    const join = T0 + 60_000;
    out.push(
      participantSummary(conferenceSid(name), {
        name: `${name}-late-agent`,
        join,
        leave: join + 240_000,
        callType: 'client',
      }),
    );
  }
  return out;
}

/** One round of traffic; `r` keeps call SIDs apart between rounds, label sets stay the same. */
function round(r: number): { calls: Event[]; metrics: Event[]; events: Event[] } {
  const metrics: Event[] = [];
  // SDK: 4 calls x 40 one-second samples, every fifth beyond every Twilio threshold.
  for (let c = 0; c < 4; c++) {
    for (let s = 0; s < 40; s++) {
      const bad = s % 5 === 0;
      metrics.push(
        sdkMetric(
          `ops-sdk-${r}-${c}`,
          {
            jitter: bad ? 45 : 8,
            rtt: bad ? 480 : 90,
            mos: bad ? 3.2 : 4.3,
            packets_received: 50,
            packets_lost: bad ? 4 : 0,
            audio_in: 800,
            audio_out: 5000,
          },
          { second: s, codec: c % 2 === 0 ? 'opus' : 'pcmu' },
        ),
      );
    }
  }
  // Gateways: carrier edge both directions in two regions, and a SIP edge; every fifth interval at 8 % loss.
  // Jitter only as running figures in `cumulative` (as Twilio sends it), from which the exporter derives each interval's.
  for (let t = 0; t < 20; t++) {
    const bad = t % 5 === 0;
    const interval = { packets_received: 495, packets_lost: bad ? 40 : 2, packets_loss_percentage: bad ? 8 : 0.4 };
    const cumulative = { packets_received: 495 * (t + 1), jitter_avg: 2 + (t % 5) };
    for (const direction of ['inbound', 'outbound'] as const) {
      metrics.push(
        gatewayMetric(`ops-carrier-${r}-0`, 'carrier_edge', direction, interval, {
          tick: t,
          region: 'us1',
          cumulative,
        }),
      );
      metrics.push(
        gatewayMetric(`ops-carrier-${r}-1`, 'carrier_edge', direction, interval, {
          tick: t,
          region: 'de1',
          cumulative,
        }),
      );
    }
    metrics.push(
      gatewayMetric(`ops-sip-${r}`, 'sip_edge', 'inbound', interval, { tick: t, region: 'us1', cumulative }),
    );
  }
  // A schema version this build does not know, parsed tolerantly and counted.
  metrics.push(fromFixture('call-metrics/schema-version-3.json'));

  const events: Event[] = [
    sdkEvent(`ops-sdk-${r}-0`, 'network-quality-warning-raised', 'high-jitter', 'WARNING', 1),
    sdkEvent(`ops-sdk-${r}-0`, 'network-quality-warning-raised', 'low-mos', 'WARNING', 2),
    sdkEvent(`ops-sdk-${r}-1`, 'network-quality-warning-raised', 'high-rtt', 'WARNING', 3),
    sdkEvent(`ops-sdk-${r}-0`, 'network-quality-warning-cleared', 'high-jitter', 'INFO', 9),
    sdkEvent(`ops-sdk-${r}-2`, 'connection', 'error', 'ERROR', 5),
    // An event name that looks like a phone number never becomes a label: folded and counted.
    sdkEvent(`ops-sdk-${r}-3`, 'connection', '+14155550123', 'INFO', 6),
    fromFixture('call-events/gateway-call-connected.json', `ops-carrier-${r}-0`),
    // Schema failure: dead-lettered. Unknown type (the sink test event): counted, no telemetry.
    fromFixture('invalid/call-summary-call-sid-missing.json'),
    fromFixture('test-event/sink-test.json'),
  ];
  // Late data: an event for a call finalised in the previous round.
  if (r > 0) events.push(sdkEvent(`ops-client-${r - 1}-0`, 'connection', 'disconnected-by-remote', 'INFO', 400));

  // 12 calls finalised per round: a third fail, post-dial delay 7-9 s.
  const calls: Event[] = [];
  for (let i = 0; i < 5; i++)
    calls.push(fromFixture('call-summary/complete-carrier-call.json', `ops-carrier-call-${r}-${i}`, withPdd(8000)));
  for (let i = 0; i < 4; i++)
    calls.push(fromFixture('call-summary/complete-failed-call.json', `ops-failed-${r}-${i}`, withPdd(9000)));
  for (let i = 0; i < 3; i++)
    calls.push(fromFixture('call-summary/complete-client-call-sdk-edge.json', `ops-client-${r}-${i}`, withPdd(7000)));
  calls.push(...conferences(r));
  return { calls, metrics, events };
}

let h: Harness;
let prom: PrometheusHandle;

async function postRound(r: number): Promise<void> {
  const { calls, metrics, events } = round(r);
  const batches = [...chunks(metrics, 100), events, calls];
  for (const batch of batches) {
    const res = await h.post(batch);
    assert.equal(res.status, 200, JSON.stringify(res.json));
  }
  // Twilio delivering the same event again: a duplicate.
  const again = await h.post([batches[0]?.[0] ?? {}]);
  assert.equal(again.status, 200);
  // A sender with the wrong token (counted as bad_signature), and a scanner without any signature.
  assert.equal(
    (await h.post([sdkEvent('ops-forged', 'connection', 'incoming')], { token: 'not-the-token' })).status,
    403,
  );
  assert.equal((await h.post([sdkEvent('ops-scanner', 'connection', 'incoming')], { token: null })).status, 401);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const sumOf = (text: string, name: string): number =>
  parseSamples(text)
    .filter((s) => s.name === name)
    .reduce((n, s) => n + s.value, 0);

beforeAll(async () => {
  assert.ok(prometheusAvailable(), INSTALL_HINT);
  h = await startExporter();
  await postRound(0);
  prom = await startPrometheus({ targets: [new URL(h.metricsUrl).host], ruleFiles: [RULES_FILE] });
  await prom.waitForTargetsUp(FIRST_SCRAPE_MS);
  await postRound(1);
  // Wait until Prometheus has scraped round 2 (every request is counted once answered).
  const requests = sumOf(await h.scrape(), 'voice_insights_exporter_webhook_requests_total');
  await prom.waitForQuery(
    'sum(voice_insights_exporter_webhook_requests_total)',
    (r) => resultValues(r)[0] === requests,
    10_000,
  );
});

afterAll(async () => {
  await prom?.stop();
  await h?.stop();
});

const summary = (results: readonly OpsQueryResult[]): string =>
  `${results.length} queries, ${results.filter((r) => r.expectData).length} expected to return data, ${results.filter((r) => r.finite > 0).length} did`;

test('every dashboard target and variable query parses, and the populated ones return data', async () => {
  const queries = dashboardQueries();
  assert.ok(queries.length > 90, `${queries.length} dashboard queries`);
  const results = await evaluateOpsQueries(prom, queries);
  assert.equal(describeFailures(results), '', summary(results));
  // Every target is expected to return data: none is marked as one realistic traffic leaves empty.
  assert.deepEqual(
    results.filter((r) => !r.expectData).map((r) => r.id),
    [],
  );
});

test('every alert expression parses; the ones this traffic trips return data, the healthy ones none', async () => {
  const results = await evaluateOpsQueries(prom, alertQueries(TRIPPED));
  assert.equal(results.length, loadAlertRules().length);
  assert.equal(describeFailures(results), '', summary(results));
  for (const name of QUIET) {
    const r = results.find((x) => x.id === name);
    assert.equal(r?.series, 0, `${name} stays quiet: ${r?.promql}`);
  }
});

test('the rule file loads into Prometheus with every rule healthy', async () => {
  const expected = new Map<string, string[]>();
  for (const r of loadAlertRules()) expected.set(r.group, [...(expected.get(r.group) ?? []), r.alert]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const groups = await prom.rules();
    assert.deepEqual(new Map(groups.map((g) => [g.name, g.rules.map((r) => r.name)])), expected);
    const unhealthy = groups.flatMap((g) =>
      g.rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`),
    );
    if (unhealthy.length === 0) break;
    // Health is "unknown" until the first evaluation (every second here); errors never heal.
    assert.ok(Date.now() < deadline && unhealthy.every((u) => u.includes('unknown')), unhealthy.join('\n'));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

test('the alerts this traffic trips go pending in Prometheus', async () => {
  const deadline = Date.now() + 10_000;
  let active = new Set<string>();
  while (Date.now() < deadline) {
    active = new Set(
      (await prom.alerts()).filter((a) => a.state !== 'inactive').map((a) => a.labels['alertname'] ?? ''),
    );
    if (TRIPPED.every((name) => active.has(name))) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.deepEqual([...active].sort(), [...TRIPPED].sort());
});
