// Once-per-call metrics from a call's final summary (DESIGN section 4). The per-call trace finaliser
// calls `record` exactly once per call, so partial summaries and redelivered completes never count twice.
import type { Meter } from '@opentelemetry/api';
import type { CallSummaryRecord, EdgeDirectionQuality } from '../events/types.js';
import { CALL_METRICS as M } from './catalog.js';
import { createCounter, createHistogram } from './instruments.js';
import type { LabelLimiter } from './label-limiter.js';

export interface CallOutcomeRecorder {
  /** Records one finalised call. Call it once per call. */
  record(summary: CallSummaryRecord): void;
}

/** Calls and their per-call histograms share one bounded value set per label. */
const CALL_FAMILY = 'twilio_voice_call*';

export function createCallOutcomeRecorder(meter: Meter, limiter: LabelLimiter): CallOutcomeRecorder {
  const calls = createCounter(meter, M.calls);
  const tags = createCounter(meter, M.callQualityTags);
  const duration = createHistogram(meter, M.callDuration);
  const connect = createHistogram(meter, M.callConnectDuration);
  const pdd = createHistogram(meter, M.callPostDialDelay);
  const queue = createHistogram(meter, M.callQueueTime);
  const mos = createHistogram(meter, M.callMos);
  const jitter = createHistogram(meter, M.callJitter);
  const loss = createHistogram(meter, M.callPacketLoss);
  const scores = createCounter(meter, M.callAnnotationScores);
  const verified = createCounter(meter, M.callVerifiedCaller);
  const label = (name: string, value: string | undefined) => limiter.value(CALL_FAMILY, name, value);

  return {
    record(s) {
      const base = { call_type: label('call_type', s.callType), call_direction: label('call_direction', s.direction) };
      calls.add(1, {
        ...base,
        call_state: label('call_state', s.callState),
        disconnected_by: label('disconnected_by', s.disconnectedBy),
      });
      for (const tag of s.tags) tags.add(1, { call_type: base.call_type, tag: label('tag', tag) });
      // Both label sets are fixed (1..5; true/false/unknown): no limiter needed.
      const score = s.annotation?.callScore;
      if (score !== undefined) scores.add(1, { call_score: String(score) });
      const isVerified = s.trust?.verifiedCaller;
      verified.add(1, { verified: isVerified === undefined ? 'unknown' : String(isVerified) });
      if (s.durationSeconds !== undefined) duration.record(s.durationSeconds, base);
      // An unanswered call has no connected time; a 0 there is not a measurement.
      if (s.connectDurationSeconds !== undefined && s.connectDurationSeconds > 0)
        connect.record(s.connectDurationSeconds, base);
      if (s.postDialDelaySeconds !== undefined) pdd.record(s.postDialDelaySeconds, base);
      if (s.queueTimeSeconds !== undefined) queue.record(s.queueTimeSeconds, base);
      const sdk = s.edges.find((e) => e.edge === 'sdk_edge');
      const callMos = sdk?.inbound?.mosAvg ?? sdk?.outbound?.mosAvg;
      if (callMos !== undefined) mos.record(callMos, base);
      for (const edge of s.edges) {
        for (const [direction, q] of [
          ['inbound', edge.inbound],
          ['outbound', edge.outbound],
        ] as const) {
          recordStream(q, { ...base, edge: edge.edge, stream_direction: direction }, jitter, loss);
        }
      }
    },
  };
}

function recordStream<L>(
  q: EdgeDirectionQuality | undefined,
  labels: L,
  jitter: { record(v: number, l: L): void },
  loss: { record(v: number, l: L): void },
): void {
  if (q === undefined) return;
  if (q.jitterAvgSeconds !== undefined) jitter.record(q.jitterAvgSeconds, labels);
  if (q.packetLossRatio !== undefined) loss.record(q.packetLossRatio, labels);
}
