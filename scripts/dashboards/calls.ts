// Dashboard (b): calls and outcomes. Once-per-call metrics (recorded when a call's trace is
// finalised): volume by state, type and direction, failed-call ratio, who hung up, durations,
// post-dial delay, queue time, per-call MOS/jitter/loss, and the way from a call to its trace.
import { ROOT_SPAN_NAME } from '../../src/calls/trace-builder.js';
import { CALL_METRICS as C, CALL_SCORES } from '../../src/telemetry/catalog.js';
import { buildDashboard, callSidVariable, filterVariable, tracingVariable, type BuiltDashboard } from './dashboard.js';
import { exploreTraces, pie, stat, text, timeseries, traceSearch, type PanelDef } from './panels.js';
import { TWILIO_THRESHOLDS as T, counter, quantile, sel, shareAbove, shareAtOrBelow, sumIncrease, sumRate } from './promql.js';

/** The filters of this dashboard, on every once-per-call metric. */
const F = ['call_type=~"$call_type"', 'call_direction=~"$call_direction"'] as const;
const CALLS = counter(C.calls);
const FAILED = 'call_state="fail"';
/** The failed-call ratio the alert rules page on. */
const FAILED_STEPS = [[null, 'green'], [0.1, 'red']] as const;
/** The post-dial delay p95 the alert rules page on, seconds. */
const PDD_STEPS = [[null, 'green'], [5, 'red']] as const;

const EDGES = ['carrier_edge', 'sip_edge', 'client_edge', 'sdk_edge'] as const;
const STREAMS = ['inbound', 'outbound'] as const;

/** TraceQL: the call's root span where any edge stream's attribute compares true. */
function rootWhereAnyStream(attribute: string, op: string, value: number, edges: readonly string[] = EDGES): string {
  const alternatives = edges.flatMap((e) => STREAMS.map((d) => `span.twilio.${e}.${d}.${attribute} ${op} ${value}`));
  return `{ name = "${ROOT_SPAN_NAME}" && (${alternatives.join(' || ')}) }`;
}

const TRACEQL = {
  byCallSid: '{ span.twilio.call_sid = "${call_sid}" }',
  failed: `{ name = "${ROOT_SPAN_NAME}" && span.twilio.call.state = "fail" }`,
  lowMos: rootWhereAnyStream('mos_avg', '<=', T.mos, ['sdk_edge']),
  highJitter: rootWhereAnyStream('jitter_avg_seconds', '>', T.jitterSeconds),
  highLoss: rootWhereAnyStream('packet_loss_ratio', '>', T.lossRatio),
} as const;

const volume = (): PanelDef[] => [
  stat({
    title: 'Calls per minute',
    description: 'Calls finalised per minute (once per call, when its complete summary arrives or it goes idle).',
    unit: 'cpm',
    expectData: true,
    width: 6,
    height: 5,
    targets: [{ expr: `${sumRate(sel(CALLS, ...F))} * 60` }],
  }),
  stat({
    title: 'Calls in range',
    description: 'Calls finalised in the selected time range.',
    unit: 'short',
    expectData: true,
    width: 6,
    height: 5,
    targets: [{ expr: sumIncrease(sel(CALLS, ...F)) }],
  }),
  stat({
    title: 'Failed-call ratio in range',
    description: 'Calls whose final call_state is fail / all finalised calls, over the selected range.',
    unit: 'percentunit',
    expectData: true,
    width: 6,
    height: 5,
    thresholds: FAILED_STEPS,
    targets: [{ expr: `${sumIncrease(sel(CALLS, FAILED, ...F))} / ${sumIncrease(sel(CALLS, ...F))}` }],
  }),
  stat({
    title: 'Post-dial delay p95 in range',
    description: 'The 95th percentile of post-dial delay (INVITE to first ringing) over the selected range.',
    unit: 's',
    expectData: true,
    width: 6,
    height: 5,
    thresholds: PDD_STEPS,
    targets: [{ expr: quantile(0.95, C.callPostDialDelay, { match: F, window: '$__range' }) }],
  }),
  timeseries({
    title: 'Calls per minute by final state',
    description: "Twilio's final call_state: completed, fail, busy, noanswer, canceled, ...",
    unit: 'cpm',
    expectData: true,
    width: 12,
    targets: [{ expr: `${sumRate(sel(CALLS, ...F), ['call_state'])} * 60`, legend: '{{call_state}}' }],
  }),
  timeseries({
    title: 'Calls per minute by type and direction',
    description: 'call_type (carrier, sip, client, trunking) and the summary direction (inbound, outbound_api, outbound_dial, trunking_*).',
    unit: 'cpm',
    expectData: true,
    width: 12,
    targets: [{ expr: `${sumRate(sel(CALLS, ...F), ['call_type', 'call_direction'])} * 60`, legend: '{{call_type}} {{call_direction}}' }],
  }),
  timeseries({
    title: 'Failed-call ratio by type',
    description: 'Calls ending in call_state fail / all finalised calls, per call type. The red line is the 10 % the alert rules use.',
    unit: 'percentunit',
    expectData: true,
    width: 8,
    thresholds: FAILED_STEPS,
    targets: [{ expr: `${sumRate(sel(CALLS, FAILED, ...F), ['call_type'])} / ${sumRate(sel(CALLS, ...F), ['call_type'])}`, legend: '{{call_type}}' }],
  }),
  pie({
    title: 'Who hung up (calls in range)',
    description: "The summary's disconnected_by: caller, callee, or unknown (unanswered calls have none).",
    unit: 'short',
    expectData: true,
    width: 8,
    targets: [{ expr: sumIncrease(sel(CALLS, ...F), ['disconnected_by']), legend: '{{disconnected_by}}' }],
  }),
  pie({
    title: 'Final state (calls in range)',
    description: 'Calls finalised in the selected range, by final call_state.',
    unit: 'short',
    expectData: true,
    width: 8,
    targets: [{ expr: sumIncrease(sel(CALLS, ...F), ['call_state']), legend: '{{call_state}}' }],
  }),
];

const durations = (): PanelDef[] => [
  timeseries({
    title: 'Call duration p50 and p95 by type',
    description: "The summary's duration: from initiation to end, in seconds.",
    unit: 's',
    expectData: true,
    width: 12,
    targets: [
      { expr: quantile(0.5, C.callDuration, { by: ['call_type'], match: F }), legend: 'p50 {{call_type}}' },
      { expr: quantile(0.95, C.callDuration, { by: ['call_type'], match: F }), legend: 'p95 {{call_type}}' },
    ],
  }),
  timeseries({
    title: 'Connected time p50 and p95 by type',
    description: 'connect_duration: from answer to end, answered calls only.',
    unit: 's',
    expectData: true,
    width: 12,
    targets: [
      { expr: quantile(0.5, C.callConnectDuration, { by: ['call_type'], match: F }), legend: 'p50 {{call_type}}' },
      { expr: quantile(0.95, C.callConnectDuration, { by: ['call_type'], match: F }), legend: 'p95 {{call_type}}' },
    ],
  }),
  timeseries({
    title: 'Post-dial delay p95 by type and direction',
    description: "INVITE to first ringing. Twilio tags high_pdd above its per-country p95; the red line is the 5 s the alert rules use.",
    unit: 's',
    expectData: true,
    width: 12,
    thresholds: PDD_STEPS,
    targets: [{ expr: quantile(0.95, C.callPostDialDelay, { by: ['call_type', 'call_direction'], match: F }), legend: '{{call_type}} {{call_direction}}' }],
  }),
  timeseries({
    title: 'Queue time p50 and p95 by type',
    description: 'Time between call creation and start: queueing behind the account CPS limit.',
    unit: 's',
    expectData: true,
    width: 12,
    targets: [
      { expr: quantile(0.5, C.callQueueTime, { by: ['call_type'], match: F }), legend: 'p50 {{call_type}}' },
      { expr: quantile(0.95, C.callQueueTime, { by: ['call_type'], match: F }), legend: 'p95 {{call_type}}' },
    ],
  }),
];

const perCall = (): PanelDef[] => [
  timeseries({
    title: 'Per-call MOS p50 and p5 by type',
    description: "Each call's average MOS on the SDK edge (client calls). Panel links open the traces of calls at or below 3.5.",
    unit: 'none',
    expectData: true,
    width: 8,
    links: [{ title: 'Traces of calls with MOS ≤ 3.5', url: exploreTraces(TRACEQL.lowMos) }],
    targets: [
      { expr: quantile(0.5, C.callMos, { by: ['call_type'], match: F }), legend: 'p50 {{call_type}}' },
      { expr: quantile(0.05, C.callMos, { by: ['call_type'], match: F }), legend: 'p5 {{call_type}}' },
    ],
  }),
  timeseries({
    title: 'Per-call jitter p95 by edge and stream direction',
    description: "Each call's average jitter per edge stream. Panel links open the traces of calls above 30 ms.",
    unit: 's',
    expectData: true,
    width: 8,
    links: [{ title: 'Traces of calls with average jitter > 30 ms', url: exploreTraces(TRACEQL.highJitter) }],
    targets: [{ expr: quantile(0.95, C.callJitter, { by: ['edge', 'stream_direction'], match: F }), legend: '{{edge}} {{stream_direction}}' }],
  }),
  timeseries({
    title: 'Per-call packet loss p95 by edge and stream direction',
    description: "Each call's packet loss per edge stream. Panel links open the traces of calls above 5 %.",
    unit: 'percentunit',
    expectData: true,
    width: 8,
    links: [{ title: 'Traces of calls with packet loss > 5 %', url: exploreTraces(TRACEQL.highLoss) }],
    targets: [{ expr: quantile(0.95, C.callPacketLoss, { by: ['edge', 'stream_direction'], match: F }), legend: '{{edge}} {{stream_direction}}' }],
  }),
  timeseries({
    title: 'Share of calls beyond Twilio thresholds',
    description: 'Per call (per edge stream for jitter and loss): MOS at or below 3.5, average jitter above 30 ms, packet loss above 5 %.',
    unit: 'percentunit',
    expectData: true,
    width: 24,
    targets: [
      { expr: shareAtOrBelow(C.callMos, T.mos, { match: F }), legend: 'MOS ≤ 3.5' },
      { expr: shareAbove(C.callJitter, T.jitterSeconds, { by: ['edge'], match: F }), legend: 'jitter > 30 ms {{edge}}' },
      { expr: shareAbove(C.callPacketLoss, T.lossRatio, { by: ['edge'], match: F }), legend: 'loss > 5 % {{edge}}' },
    ],
  }),
];

const VERIFIED = counter(C.callVerifiedCaller);
const SCORES = counter(C.callAnnotationScores);

const trustAndAnnotations = (): PanelDef[] => [
  timeseries({
    title: 'Verified-caller share',
    description:
      'Of the finalised calls that carry caller verification (SHAKEN/STIR, summary trust.verified_caller), the share whose caller was verified. Calls without trust data (verified="unknown") are left out.',
    unit: 'percentunit',
    expectData: true,
    width: 8,
    min: 0,
    max: 1,
    targets: [
      {
        expr: `${sumRate(sel(VERIFIED, 'verified="true"'))} / ${sumRate(sel(VERIFIED, 'verified=~"true|false"'))}`,
        legend: 'verified',
      },
    ],
  }),
  timeseries({
    title: 'Annotated calls per minute by call score',
    description: 'Finalised calls scored through the Call Annotation API (summary annotation.call_score: 1 bad, 2 poor, 3 fair, 4 good, 5 excellent).',
    unit: 'cpm',
    expectData: true,
    width: 8,
    targets: [{ expr: `${sumRate(sel(SCORES), ['call_score'])} * 60`, legend: 'score {{call_score}}' }],
  }),
  stat({
    title: 'Average annotation call score in range',
    description: 'Mean call_score of the calls annotated in the selected range (1 bad .. 5 excellent).',
    unit: 'none',
    expectData: true,
    width: 8,
    thresholds: [[null, 'red'], [3, 'yellow'], [4, 'green']],
    targets: [
      {
        expr: `(${CALL_SCORES.map((score) => `${sumIncrease(sel(SCORES, `call_score="${score}"`))} * ${score}`).join(' + ')}) / ${sumIncrease(sel(SCORES))}`,
      },
    ],
  }),
];

const FIND_A_TRACE = `Every call is **one trace**, and its **trace id is the CallSid's 32 hex digits, lowercased**:
\`CA0de4d68035f5f8c77773b0db2daad3fa\` → trace id \`0de4d68035f5f8c77773b0db2daad3fa\`. The root span
\`${ROOT_SPAN_NAME}\` also carries the CallSid as \`twilio.call_sid\`, so no conversion is needed to search.

- Type a CallSid into the **CallSid** box above, then: [open its trace in Explore](${exploreTraces(TRACEQL.byCallSid)}) (TraceQL \`${TRACEQL.byCallSid}\`).
- Lists: [recent failed calls](${exploreTraces(TRACEQL.failed)}) · [calls with MOS ≤ 3.5](${exploreTraces(TRACEQL.lowMos)}) · [calls with packet loss > 5 %](${exploreTraces(TRACEQL.highLoss)}).
- **Tempo**: paste the trace id into *Trace ID*, or search TraceQL as above. **Jaeger**: search tag \`twilio.call_sid=CA…\`, or open \`/trace/<trace id>\`; point the **Traces** variable at your Jaeger datasource (dashboard settings → variables → tracing → type).
- Span events on the root span are the call's events (\`call.connected\`, \`network-quality-warning-raised.high-jitter\`, ...) at their own timestamps; data arriving after the call was exported is a \`${ROOT_SPAN_NAME}.late\` child span in the same trace.`;

const traces = (): PanelDef[] => [
  text("Find a call's trace", FIND_A_TRACE, 24, 7),
  traceSearch({
    title: 'Trace of the CallSid above',
    description: 'TraceQL on the tracing datasource: the root span whose twilio.call_sid is the CallSid typed above.',
    traceql: TRACEQL.byCallSid,
  }),
  traceSearch({
    title: 'Recent failed calls',
    description: 'Calls whose final call_state is fail; their root span has status ERROR with the SIP response and Q.850 cause.',
    traceql: TRACEQL.failed,
  }),
];

export function callsDashboard(): BuiltDashboard {
  return buildDashboard({
    uid: 'voice-insights-calls',
    title: 'Voice Insights: calls and outcomes',
    description: 'Twilio calls as finalised by voice-insights-exporter: volume, outcomes, durations, post-dial delay, per-call quality, and links to each call trace.',
    file: 'calls.json',
    variables: [
      filterVariable('call_type', 'Call type', CALLS),
      filterVariable('call_direction', 'Direction', CALLS),
      tracingVariable(),
      callSidVariable(),
    ],
    sections: [
      { title: 'Volume and outcomes', panels: volume() },
      { title: 'Durations and delays', panels: durations() },
      { title: 'Per-call quality (once per call)', panels: perCall() },
      { title: 'Caller verification and annotations (once per call)', panels: trustAndAnnotations() },
      { title: 'Call traces', panels: traces() },
    ],
  });
}
