// Interval samples and call events -> Prometheus/OTLP metrics (DESIGN section 4). Only interval
// values are added to counters: cumulative blocks are running totals, and adding them as deltas
// would count every packet many times over. What a gateway interval lacks (jitter; packets of a
// cumulative-only sample) arrives separately as differences of consecutive cumulative snapshots,
// computed by the call reducer (onDerivedSample). Absent values are skipped, never recorded as zero.
import type { Meter } from '@opentelemetry/api';
import type { DerivedSample } from '../calls/call-reducer.js';
import type { Clock } from '../clock.js';
import type { CallEventRecord, CallMetricSample, MetricValues, Stat } from '../events/types.js';
import type { EventHandlers } from '../pipeline/dispatch.js';
import { ActiveCalls } from './active-calls.js';
import { CALL_METRICS as M, type LabelsOf } from './catalog.js';
import { createCounter, createHistogram, createObservedLabelledGauge } from './instruments.js';
import { UNKNOWN_VALUE, type LabelLimiter } from './label-limiter.js';

type SampleLabels = LabelsOf<typeof M.intervalJitter>;
/** Interval histograms and packet counters share one bounded value set per label. */
const SAMPLE_FAMILY = 'twilio_voice_interval_*';

export interface CallMetricsRecorder extends EventHandlers {
  /**
   * Interval figures derived from a gateway stream's cumulative snapshots (src/calls/stream-deltas.ts),
   * recorded after the commit into the same instruments and with the same labels as interval values.
   */
  onDerivedSample(derived: Omit<DerivedSample, 'kind'>): void;
}

export function createCallMetricsRecorder(meter: Meter, limiter: LabelLimiter, clock: Clock): CallMetricsRecorder {
  const jitter = createHistogram(meter, M.intervalJitter);
  const rtt = createHistogram(meter, M.intervalRtt);
  const mos = createHistogram(meter, M.intervalMos);
  const loss = createHistogram(meter, M.intervalLoss);
  const audio = createHistogram(meter, M.intervalAudioLevel);
  const received = createCounter(meter, M.packetsReceived);
  const lost = createCounter(meter, M.packetsLost);
  const sent = createCounter(meter, M.packetsSent);
  const events = createCounter(meter, M.callEvents);
  const active = new ActiveCalls(clock);
  createObservedLabelledGauge(meter, M.activeCalls, () =>
    [...active.countByEdge()].map(([edge, count]) => [{ edge }, count] as const),
  );

  const sampleLabels = (s: Pick<CallMetricSample, 'edge' | 'streamDirection' | 'codec' | 'region'>): SampleLabels => ({
    edge: s.edge ?? UNKNOWN_VALUE,
    stream_direction: s.streamDirection,
    codec: limiter.value(SAMPLE_FAMILY, 'codec', s.codec),
    region: limiter.value(SAMPLE_FAMILY, 'region', s.region),
  });

  return {
    onCallMetric(sample) {
      active.touch(sample.callSid, sample.edge);
      const labels = sampleLabels(sample);
      const v = sample.interval;
      recordIfDefined(jitter, statValue(v.jitterSeconds), labels);
      recordIfDefined(rtt, statValue(v.rttSeconds), labels);
      recordIfDefined(mos, statValue(v.mos), labels);
      recordIfDefined(loss, lossRatio(v), labels);
      recordIfDefined(audio, statValue(v.audioIn), { ...labels, channel: 'in' });
      recordIfDefined(audio, statValue(v.audioOut), { ...labels, channel: 'out' });
      if (v.packetsReceived !== undefined) received.add(v.packetsReceived, labels);
      if (v.packetsLost !== undefined) lost.add(v.packetsLost, labels);
      if (v.packetsSent !== undefined) sent.add(v.packetsSent, labels);
    },
    onDerivedSample({ sample, values: d }) {
      const labels = sampleLabels(sample);
      recordIfDefined(jitter, d.jitterSeconds, labels);
      recordIfDefined(loss, d.packetLossRatio, labels);
      if (d.packetsReceived !== undefined) received.add(d.packetsReceived, labels);
      if (d.packetsLost !== undefined) lost.add(d.packetsLost, labels);
      if (d.packetsSent !== undefined) sent.add(d.packetsSent, labels);
    },
    onCallEvent(event: CallEventRecord) {
      active.touch(event.callSid, event.edge);
      const name = M.callEvents.name;
      events.add(1, {
        source: event.source,
        group: limiter.value(name, 'group', event.group),
        name: limiter.value(name, 'name', event.name),
        level: event.level,
      });
    },
    onCallSummary: () => undefined,
    // Conference metrics are once per conference and participant: recorded from the conference's
    // finalisation effects (conference-recorder.ts), not per delivered event.
    onConferenceSummary: () => undefined,
    onParticipantSummary: () => undefined,
    onSinkTest: () => undefined,
  };
}

/** The interval's own value; gateways and older SDKs may send only avg. */
function statValue(stat: Stat | undefined): number | undefined {
  return stat?.value ?? stat?.avg;
}

/** Twilio's percentage when sent, else derived from the interval's counts when they allow it. */
export function lossRatio(v: MetricValues): number | undefined {
  if (v.packetLossRatio !== undefined) return v.packetLossRatio;
  if (v.packetsLost === undefined || v.packetsReceived === undefined) return undefined;
  const expected = v.packetsLost + v.packetsReceived;
  return expected > 0 ? v.packetsLost / expected : undefined;
}

function recordIfDefined<L>(h: { record(value: number, labels: L): void }, value: number | undefined, labels: L): void {
  if (value !== undefined) h.record(value, labels);
}
