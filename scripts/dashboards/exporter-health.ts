// Dashboard (c): exporter health. The webhook as Twilio sees it (status codes, latency, signature
// failures, readiness), events by type and outcome, duplicates, dead letters, event lag, the trace
// pipeline (calls in flight, finalisation, late data, export queue and failures, dropped spans), and
// cardinality (label overflow, dedup memory).
import { SELF_METRICS as S } from '../../src/telemetry/catalog.js';
import { buildDashboard, filterVariable, type BuiltDashboard } from './dashboard.js';
import { stat, timeseries, type PanelDef } from './panels.js';
import { counter, gauge, quantile, sel, sumOfReplicaMax, sumRate } from './promql.js';

/** Replicas of one job are told apart by instance. */
const F = ['instance=~"$instance"'] as const;
const REQUESTS = counter(S.webhookRequests);
const EVENTS = counter(S.events);
/** Summaries legitimately arrive up to 30 min after the call; lag alerts look at events and metrics. */
const NOT_SUMMARY = 'type!~".*call-summary.*"';
const RATIO_STEPS = [[null, 'green'], [0.05, 'red']] as const;

const codeShare = (codeRegex: string): string => `${sumRate(sel(REQUESTS, `code=~"${codeRegex}"`, ...F))} / ${sumRate(sel(REQUESTS, ...F))}`;

const status = (): PanelDef[] => [
  stat({
    title: 'Ready',
    description: 'All selected instances accept events (min over instances). Not ready means the webhook answers 503 and Twilio retries; see /readyz for why.',
    unit: 'bool_yes_no',
    expectData: true,
    width: 4,
    height: 5,
    thresholds: [[null, 'red'], [1, 'green']],
    targets: [{ expr: `min(${sel(gauge(S.ready), ...F)})` }],
  }),
  stat({
    title: 'Webhook requests',
    description: 'Requests to WEBHOOK_PATH answered per second, all status codes (health probes and other paths are not counted).',
    unit: 'reqps',
    expectData: true,
    width: 4,
    height: 5,
    targets: [{ expr: sumRate(sel(REQUESTS, ...F)) }],
  }),
  stat({
    title: '5xx share',
    description: 'Share of requests to WEBHOOK_PATH answered 5xx (health probes are not counted): Twilio retries those, for up to 4 hours.',
    unit: 'percentunit',
    expectData: true,
    width: 4,
    height: 5,
    thresholds: RATIO_STEPS,
    targets: [{ expr: codeShare('5..') }],
  }),
  stat({
    title: 'Event lag p95',
    description: 'Receive time minus event time of call events and metrics (summaries excluded: they come up to 30 min after the call).',
    unit: 's',
    expectData: true,
    width: 4,
    height: 5,
    thresholds: [[null, 'green'], [300, 'red']],
    targets: [{ expr: quantile(0.95, S.eventLag, { match: [NOT_SUMMARY, ...F] }) }],
  }),
  stat({
    title: 'Calls in flight',
    description: 'Calls and conferences waiting for their complete summary (or idle expiry) before their trace is sent.',
    unit: 'short',
    expectData: true,
    width: 4,
    height: 5,
    targets: [{ expr: sumOfReplicaMax(sel(gauge(S.callsInFlight), ...F)) }],
  }),
  stat({
    title: 'Trace export queue',
    description: 'Spans waiting for OTLP export (queued or being retried).',
    unit: 'short',
    expectData: true,
    width: 4,
    height: 5,
    targets: [{ expr: sumOfReplicaMax(sel(gauge(S.traceQueue), ...F)) }],
  }),
];

const webhook = (): PanelDef[] => [
  timeseries({
    title: 'Webhook requests per second by status code',
    description: 'Every answer to WEBHOOK_PATH (health probes and other paths are not counted). 2xx: recorded; 4xx: Twilio drops the delivery for good; 5xx: Twilio retries.',
    unit: 'reqps',
    expectData: true,
    width: 12,
    targets: [{ expr: sumRate(sel(REQUESTS, ...F), ['code']), legend: '{{code}}' }],
  }),
  timeseries({
    title: '4xx and 5xx share of webhook requests',
    description: 'Client errors (bad signature, body, size, type) and server errors (not ready, unexpected) as a share of all requests.',
    unit: 'percentunit',
    expectData: true,
    width: 12,
    thresholds: RATIO_STEPS,
    targets: [
      { expr: codeShare('4..'), legend: '4xx' },
      { expr: codeShare('5..'), legend: '5xx' },
    ],
  }),
  timeseries({
    title: 'Webhook latency p50, p95 and p99',
    description: 'Request start to answer; Twilio gives up (and retries) after 5 s.',
    unit: 's',
    expectData: true,
    width: 8,
    targets: [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, S.webhookDuration, { match: F }), legend: `p${Math.round(q * 100)}` })),
  }),
  timeseries({
    title: 'Signature failures per second by reason',
    description: 'Requests rejected by X-Twilio-Signature, bodySHA256 or Basic auth. bad_signature: the URL rebuilt here differs from the one Twilio signed (PUBLIC_URL, TRUST_PROXY) or TWILIO_AUTH_TOKEN is wrong; body_hash_mismatch: something between Twilio and the exporter rewrote or cut the body; missing_signature is usually a scanner. The exporter logs each reason at warn, at most once a minute, with the URL it rebuilt for the check.',
    unit: 'reqps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(counter(S.signatureFailures), ...F), ['reason']), legend: '{{reason}}' }],
  }),
  timeseries({
    title: 'Readiness by instance',
    description: '1 when the instance accepts events, 0 while it answers 503.',
    unit: 'bool_yes_no',
    expectData: true,
    width: 8,
    min: 0,
    max: 1,
    targets: [{ expr: `max by (instance) (${sel(gauge(S.ready), ...F)})`, legend: '{{instance}}' }],
  }),
];

const events = (): PanelDef[] => [
  timeseries({
    title: 'Accepted events per second by type',
    description: 'CloudEvents recorded, by Call Insights event type (other: types outside the known set).',
    unit: 'eps',
    expectData: true,
    width: 12,
    targets: [{ expr: sumRate(sel(EVENTS, 'outcome="accepted"', ...F), ['type']), legend: '{{type}}' }],
  }),
  timeseries({
    title: 'Events per second by outcome',
    description: 'accepted, duplicate (same CloudEvent id again: Twilio delivers at least once), invalid (dead-lettered), unknown_type.',
    unit: 'eps',
    expectData: true,
    width: 12,
    targets: [{ expr: sumRate(sel(EVENTS, ...F), ['outcome']), legend: '{{outcome}}' }],
  }),
  timeseries({
    title: 'Duplicate share',
    description: 'Duplicates / all events received. A rise means Twilio is retrying deliveries it thinks failed (timeouts, 5xx).',
    unit: 'percentunit',
    expectData: true,
    width: 8,
    targets: [{ expr: `${sumRate(sel(EVENTS, 'outcome="duplicate"', ...F))} / ${sumRate(sel(EVENTS, ...F))}`, legend: 'duplicates' }],
  }),
  timeseries({
    title: 'Dead-lettered events per second by reason',
    description: 'Events written to DATA_DIR/dead-letter.jsonl (envelope: not a usable CloudEvent; schema: data failed its schema), with the failing field paths.',
    unit: 'eps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(counter(S.deadLetters), ...F), ['reason']), legend: '{{reason}}' }],
  }),
  timeseries({
    title: 'Event lag p95 by type',
    description: 'Receive time minus event time. Events normally come within ~90 s and summaries within 30 min; hours mean Twilio is retrying a backlog.',
    unit: 's',
    expectData: true,
    width: 8,
    targets: [{ expr: quantile(0.95, S.eventLag, { by: ['type'], match: F }), legend: '{{type}}' }],
  }),
  timeseries({
    title: 'Unknown schema versions per second by type',
    description: 'Events whose dataschema version this build does not know; parsed tolerantly anyway. Time to check for an exporter update.',
    unit: 'eps',
    expectData: true,
    width: 24,
    height: 6,
    targets: [{ expr: sumRate(sel(counter(S.unknownSchemaVersions), ...F), ['type']), legend: '{{type}}' }],
  }),
];

const traces = (): PanelDef[] => [
  timeseries({
    title: 'Calls in flight',
    description: 'Calls and conferences whose trace is pending, per instance.',
    unit: 'short',
    expectData: true,
    width: 8,
    targets: [{ expr: `sum by (instance) (${sel(gauge(S.callsInFlight), ...F)})`, legend: '{{instance}}' }],
  }),
  timeseries({
    title: 'Traces finalised per second by reason',
    description: 'Call and conference traces. complete: complete summary (a conference: and every participant it counted); idle: CALL_IDLE_TIMEOUT_SECONDS without data; capacity: MAX_PENDING_CALLS reached (finalised early).',
    unit: 'cps',
    expectData: true,
    width: 8,
    targets: [
      { expr: sumRate(sel(counter(S.tracesFinalised), ...F), ['reason']), legend: 'call {{reason}}' },
      { expr: sumRate(sel(counter(S.conferencesFinalised), ...F), ['reason']), legend: 'conference {{reason}}' },
    ],
  }),
  timeseries({
    title: 'Late data per second by kind and outcome',
    description: 'Data for calls and conferences already finalised: late_span (exported as a late child span in the same trace) or ignored (a repeat, or a metrics sample).',
    unit: 'eps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(counter(S.lateData), ...F), ['kind', 'outcome']), legend: '{{kind}} {{outcome}}' }],
  }),
  timeseries({
    title: 'Trace export queue (spans)',
    description: 'Spans waiting for OTLP export; grows while the tracing backend is down, bounded by TRACE_QUEUE_MAX_SPANS.',
    unit: 'short',
    expectData: true,
    width: 8,
    targets: [{ expr: `sum by (instance) (${sel(gauge(S.traceQueue), ...F)})`, legend: '{{instance}}' }],
  }),
  timeseries({
    title: 'OTLP export failures per second by signal',
    description: 'Exports the backend did not accept (traces are retried with backoff; metrics are pushed again next interval).',
    unit: 'ops',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(counter(S.exportFailures), ...F), ['signal']), legend: '{{signal}}' }],
  }),
  timeseries({
    title: 'Spans dropped per second by reason',
    description: 'Spans that left the outbox unexported: gave_up (export failed for TRACE_EXPORT_GIVE_UP_SECONDS) or rejected (the backend refused the entry outright). These are lost.',
    unit: 'cps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(counter(S.spansDropped), ...F), ['reason']), legend: '{{reason}}' }],
  }),
];

const cardinality = (): PanelDef[] => [
  timeseries({
    title: 'Label overflow per second by metric and label',
    description: 'Recordings folded into `other`: METRIC_LABEL_MAX_VALUES reached, or a value looked like a SID, phone number or IP.',
    unit: 'cps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(counter(S.labelOverflow), ...F), ['metric', 'label']), legend: '{{metric}} {{label}}' }],
  }),
  timeseries({
    title: 'Dedup ids remembered',
    description: 'CloudEvent ids remembered for duplicate detection (for DEDUP_TTL_SECONDS).',
    unit: 'short',
    expectData: true,
    width: 8,
    targets: [{ expr: `sum by (instance) (${sel(gauge(S.dedupIds), ...F)})`, legend: '{{instance}}' }],
  }),
];

export function exporterHealthDashboard(): BuiltDashboard {
  return buildDashboard({
    uid: 'voice-insights-exporter-health',
    title: 'Voice Insights: exporter health',
    description: 'voice-insights-exporter itself: webhook answers, signatures, events, lag, trace pipeline, cardinality.',
    file: 'exporter-health.json',
    variables: [filterVariable('instance', 'Instance', gauge(S.ready))],
    sections: [
      { title: 'Status', panels: status() },
      { title: 'Webhook', panels: webhook() },
      { title: 'Events', panels: events() },
      { title: 'Calls and traces', panels: traces() },
      { title: 'Cardinality and deduplication', panels: cardinality() },
    ],
  });
}
