// Dashboard (a): call quality overview. Per-interval MOS, jitter, packet loss and RTT as
// distributions and percentiles by edge, region, codec and stream direction; the share of intervals
// beyond Twilio's own thresholds; quality tags; SDK warnings and call events; active calls.
import { CALL_METRICS as C } from '../../src/telemetry/catalog.js';
import { buildDashboard, filterVariable, type BuiltDashboard } from './dashboard.js';
import { heatmap, stat, timeseries, type PanelDef, type TargetSpec } from './panels.js';
import { TWILIO_THRESHOLDS as T, bucketRates, counter, gauge, quantile, sel, shareAbove, shareAtOrBelow, sumOfReplicaMax, sumRate } from './promql.js';

/** The filters of this dashboard, on every interval metric. */
const F = ['edge=~"$edge"', 'region=~"$region"', 'codec=~"$codec"', 'stream_direction=~"$stream_direction"'] as const;
/** Alerting share of intervals beyond a threshold (the alert rules use the same 5 %). */
const SHARE_STEPS = [[null, 'green'], [0.05, 'red']] as const;

type Hist = (typeof C)['intervalJitter' | 'intervalRtt' | 'intervalMos' | 'intervalLoss'];

interface Measure {
  name: string;
  metric: Hist;
  unit: string;
  /** Quantiles to plot by edge: MOS is better high, so its bad tail is the 5th percentile. */
  quantiles: readonly [number, number];
  /** Which edges carry the measure, for the panel descriptions. */
  note: string;
}

const MOS: Measure = { name: 'MOS', metric: C.intervalMos, unit: 'none', quantiles: [0.5, 0.05], note: 'SDK edge only (the Voice SDK computes MOS each second). The bad tail is the 5th percentile.' };
const JITTER: Measure = { name: 'Jitter', metric: C.intervalJitter, unit: 's', quantiles: [0.5, 0.95], note: 'SDK 1 s samples, and gateway 10 s intervals (derived from their running jitter figures).' };
const LOSS: Measure = { name: 'Packet loss', metric: C.intervalLoss, unit: 'percentunit', quantiles: [0.5, 0.95], note: 'Every edge: gateways per 10 s interval and stream direction, the SDK per second.' };
const RTT: Measure = { name: 'RTT', metric: C.intervalRtt, unit: 's', quantiles: [0.5, 0.95], note: 'SDK edge only (round trip between the SDK and Twilio).' };

const pct = (q: number): string => `p${Math.round(q * 100)}`;

function measurePanels(m: Measure): PanelDef[] {
  const [q1, q2] = m.quantiles;
  const byEdge = timeseries({
    title: `${m.name} ${pct(q1)} and ${pct(q2)} by edge`,
    description: `Per-interval ${m.name} percentiles from the histogram buckets. ${m.note}`,
    unit: m.unit,
    expectData: true,
    width: 8,
    targets: [
      { expr: quantile(q1, m.metric, { by: ['edge'], match: F }), legend: `${pct(q1)} {{edge}}` },
      { expr: quantile(q2, m.metric, { by: ['edge'], match: F }), legend: `${pct(q2)} {{edge}}` },
    ],
  });
  const breakdown = timeseries({
    title: `${m.name} ${pct(q2)} by region, codec and stream direction`,
    description: `The ${pct(q2)} of per-interval ${m.name}, broken down by each dimension separately. ${m.note}`,
    unit: m.unit,
    expectData: true,
    width: 8,
    targets: (['region', 'codec', 'stream_direction'] as const).map((label) => ({
      expr: quantile(q2, m.metric, { by: [label], match: F }),
      legend: `${label} {{${label}}}`,
    })),
  });
  const distribution = heatmap({
    title: `${m.name} distribution`,
    description: `Per-interval ${m.name} samples per second in each histogram bucket; the buckets include Twilio's thresholds exactly.`,
    unit: m.unit,
    expectData: true,
    width: 8,
    targets: [{ expr: bucketRates(m.metric, { match: F }) }],
  });
  return [byEdge, breakdown, distribution];
}

// Panels are built per call: builders are mutable, and each build must start from fresh ones.
const thresholdStats = (): PanelDef[] => [
  stat({
    title: 'Active calls',
    description: 'Calls that sent a metrics sample or call event in the last 60 s, all edges together.',
    unit: 'short',
    expectData: true,
    width: 4,
    height: 5,
    targets: [{ expr: sumOfReplicaMax(sel(gauge(C.activeCalls), 'edge=~"$edge"')) }],
  }),
  stat({
    title: 'Intervals with jitter > 30 ms',
    description: "Share of metrics intervals with jitter above 30 ms (Twilio's high_jitter cut-off and the SDK high-jitter warning).",
    unit: 'percentunit',
    expectData: true,
    width: 5,
    height: 5,
    thresholds: SHARE_STEPS,
    targets: [{ expr: shareAbove(C.intervalJitter, T.jitterSeconds, { match: F }) }],
  }),
  stat({
    title: 'Intervals with packet loss > 5 %',
    description: "Share of metrics intervals losing more than 5 % of packets (Twilio's high_packet_loss cut-off).",
    unit: 'percentunit',
    expectData: true,
    width: 5,
    height: 5,
    thresholds: SHARE_STEPS,
    targets: [{ expr: shareAbove(C.intervalLoss, T.lossRatio, { match: F }) }],
  }),
  stat({
    title: 'Intervals with MOS ≤ 3.5',
    description: "Share of SDK seconds with MOS at or below 3.5 (Twilio's low_mos tag is < 3.5; the bucket boundary includes 3.5 itself).",
    unit: 'percentunit',
    expectData: true,
    width: 5,
    height: 5,
    thresholds: SHARE_STEPS,
    targets: [{ expr: shareAtOrBelow(C.intervalMos, T.mos, { match: F }) }],
  }),
  stat({
    title: 'Intervals with RTT > 400 ms',
    description: "Share of SDK seconds with round-trip time above 400 ms (Twilio's SDK high_latency tag and high-rtt warning).",
    unit: 'percentunit',
    expectData: true,
    width: 5,
    height: 5,
    thresholds: SHARE_STEPS,
    targets: [{ expr: shareAbove(C.intervalRtt, T.rttSeconds, { match: F }) }],
  }),
];

const thresholdsByEdge = (): PanelDef =>
  timeseries({
    title: 'Share of intervals beyond Twilio thresholds, by edge',
    description: 'The four threshold shares above per edge over time; the red line is the 5 % the alert rules use.',
    unit: 'percentunit',
    expectData: true,
    width: 24,
    thresholds: SHARE_STEPS,
    targets: [
      { expr: shareAbove(C.intervalJitter, T.jitterSeconds, { by: ['edge'], match: F }), legend: 'jitter > 30 ms {{edge}}' },
      { expr: shareAbove(C.intervalLoss, T.lossRatio, { by: ['edge'], match: F }), legend: 'loss > 5 % {{edge}}' },
      { expr: shareAtOrBelow(C.intervalMos, T.mos, { by: ['edge'], match: F }), legend: 'MOS ≤ 3.5 {{edge}}' },
      { expr: shareAbove(C.intervalRtt, T.rttSeconds, { by: ['edge'], match: F }), legend: 'RTT > 400 ms {{edge}}' },
    ],
  });

/** Twilio's gateway edges: 10 s intervals per stream direction. */
const GATEWAY_EDGES = 'edge=~"carrier_edge|sip_edge|client_edge"';

const gatewayJitter = (): PanelDef =>
  timeseries({
    title: 'Gateway jitter p50 and p95 by edge',
    description:
      "Jitter of the 10 s intervals of Twilio's gateway edges (carrier, SIP, client), by edge. The red line is Twilio's 30 ms high_jitter cut-off, where TwilioVoiceGatewayHighJitter counts an interval as bad.",
    unit: 's',
    expectData: true,
    width: 24,
    thresholds: [[null, 'green'], [T.jitterSeconds, 'red']],
    targets: [0.5, 0.95].map((q) => ({
      expr: quantile(q, C.intervalJitter, { by: ['edge'], match: [...F, GATEWAY_EDGES] }),
      legend: `${pct(q)} {{edge}}`,
    })),
  });

const packetsBy = (series: string, legend: string): TargetSpec => ({ expr: sumRate(sel(series, ...F), ['edge']), legend });

const packets = (): PanelDef[] => [
  timeseries({
    title: 'Packet loss from packet counters, by edge',
    description: 'Packets lost / (received + lost), weighted by packets rather than by interval: what a listener hears overall.',
    unit: 'percentunit',
    expectData: true,
    width: 12,
    targets: [
      {
        expr: `${sumRate(sel(counter(C.packetsLost), ...F), ['edge'])} / (${sumRate(sel(counter(C.packetsReceived), ...F), ['edge'])} + ${sumRate(sel(counter(C.packetsLost), ...F), ['edge'])})`,
        legend: '{{edge}}',
      },
    ],
  }),
  timeseries({
    title: 'Packets per second by edge',
    description: "Summed from interval values only. Twilio's interval blocks carry received and lost counts; sent appears only where Twilio reports it.",
    unit: 'pps',
    expectData: true,
    width: 12,
    targets: [
      packetsBy(counter(C.packetsReceived), 'received {{edge}}'),
      packetsBy(counter(C.packetsLost), 'lost {{edge}}'),
      // Twilio's REST docs list interval packets_sent for no edge (CallMetric/2 allows it, the simulator's SDK samples carry it).
      packetsBy(counter(C.packetsSent), 'sent {{edge}}'),
    ],
  }),
];

const EVENTS = counter(C.callEvents);

const eventsAndTags = (): PanelDef[] => [
  timeseries({
    title: 'Calls tagged by Twilio per minute, by tag',
    description: 'Finalised calls carrying each Voice Insights quality tag (silence, high_jitter, high_packet_loss, high_latency, high_pdd, low_mos, ice_failure, ...). A call with two tags counts under both.',
    unit: 'cpm',
    expectData: true,
    width: 12,
    targets: [{ expr: `${sumRate(sel(counter(C.callQualityTags)), ['tag'])} * 60`, legend: '{{tag}}' }],
  }),
  timeseries({
    title: 'Share of finalised calls carrying each tag',
    description: 'Calls with the tag / all finalised calls.',
    unit: 'percentunit',
    expectData: true,
    width: 12,
    targets: [{ expr: `${sumRate(sel(counter(C.callQualityTags)), ['tag'])} / on() group_left() ${sumRate(sel(counter(C.calls)))}`, legend: '{{tag}}' }],
  }),
  timeseries({
    title: 'SDK warnings raised per second, by name',
    description: 'Voice SDK network-quality and audio-level warnings (high-rtt, low-mos, high-jitter, high-packet-loss, constant-audio-*-level, ...).',
    unit: 'eps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(EVENTS, 'source="sdk"', 'group=~".*-warning-raised"'), ['group', 'name']), legend: '{{group}} {{name}}' }],
  }),
  timeseries({
    title: 'Call events per second by source and group',
    description: 'Every gateway and SDK call event, by source and event group.',
    unit: 'eps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(EVENTS), ['source', 'group']), legend: '{{source}} {{group}}' }],
  }),
  timeseries({
    title: 'Error-level call events per second, by name',
    description: 'Call events at level ERROR (connection errors, ICE or DTLS failures, getUserMedia denied, ...).',
    unit: 'eps',
    expectData: true,
    width: 8,
    targets: [{ expr: sumRate(sel(EVENTS, 'level="ERROR"'), ['source', 'group', 'name']), legend: '{{source}} {{group}} {{name}}' }],
  }),
  timeseries({
    title: 'Active calls by edge',
    description: 'Calls that sent a metrics sample or call event in the last 60 s, per edge (a client call counts on sdk_edge and client_edge).',
    unit: 'short',
    expectData: true,
    width: 24,
    targets: [{ expr: sumOfReplicaMax(sel(gauge(C.activeCalls), 'edge=~"$edge"'), ['edge']), legend: '{{edge}}' }],
  }),
];

export function callQualityDashboard(): BuiltDashboard {
  return buildDashboard({
    uid: 'voice-insights-call-quality',
    title: 'Voice Insights: call quality',
    description: 'Twilio Voice Insights call quality: MOS, jitter, packet loss and RTT per interval, by edge, region, codec and stream direction, against Twilio thresholds.',
    file: 'call-quality.json',
    variables: [
      filterVariable('edge', 'Edge', counter(C.packetsReceived)),
      filterVariable('region', 'Region', counter(C.packetsReceived)),
      filterVariable('codec', 'Codec', counter(C.packetsReceived)),
      filterVariable('stream_direction', 'Stream direction', counter(C.packetsReceived)),
    ],
    sections: [
      { title: 'Against Twilio thresholds', panels: [...thresholdStats(), thresholdsByEdge()] },
      { title: 'MOS (SDK)', panels: measurePanels(MOS) },
      { title: 'Jitter', panels: [...measurePanels(JITTER), gatewayJitter()] },
      { title: 'Packet loss', panels: [...measurePanels(LOSS), ...packets()] },
      { title: 'RTT (SDK)', panels: measurePanels(RTT) },
      { title: 'Quality tags, SDK warnings and call events', panels: eventsAndTags() },
    ],
  });
}
