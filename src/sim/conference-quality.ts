// A conference participant's `metrics` from its leg's own media, so the participant summary agrees
// with the leg's call summary: inbound is what the leg sent into the conference (the gateway edge's
// inbound stream), outbound what the conference sent it. Jitter and latency in ms, loss in percent,
// MOS by the E-model the Voice SDK uses (quality.ts). Tags by Twilio's call-tag thresholds, named as
// conference tags (reference section 7: high_jitter, high_packet_loss, high_latency, low_mos,
// detected_silence). Participant summary metrics:
// https://www.twilio.com/docs/voice/voice-insights/api/conference/participant-summary-resource
import type { CallPlan } from './call-plan.js';
import type { StreamSummary } from './media.js';
import { isGatewayEdge, type StreamDirection } from './model.js';
import { gatewayTags, mosFrom, TAG_THRESHOLDS } from './quality.js';
import { round } from './random.js';

export interface ParticipantQuality {
  packetsReceived: number;
  packetsLost: number;
  /** Percent, 0..100. */
  lossPct: number;
  jitterAvgMs: number;
  jitterMaxMs: number;
  latencyAvgMs: number;
  latencyMaxMs: number;
  mos: number;
  tags: string[];
}

/** One-way latency when nothing measures the round trip (PSTN and SIP legs). */
const GATEWAY_LATENCY_MS = 20;

export function participantQuality(call: CallPlan): { inbound: ParticipantQuality; outbound: ParticipantQuality } {
  const edge = call.edges.find(isGatewayEdge);
  const stream = (direction: StreamDirection): StreamSummary | undefined =>
    call.media?.streams.find((s) => s.edge === edge && s.direction === direction);
  // A client leg's round trip is the SDK's; half of it one way.
  const rtt = call.media?.sdkQuality?.rttMs;
  const latency = rtt ? { avg: round(rtt.avg / 2, 1), max: round(rtt.max / 2, 1) } : undefined;
  const of = (direction: StreamDirection): ParticipantQuality => {
    const s = stream(direction);
    const jitterAvgMs = s?.jitterAvgMs ?? 0;
    const lossPct = s?.lossPct ?? 0;
    const latencyAvgMs = latency?.avg ?? GATEWAY_LATENCY_MS;
    const mos = mosFrom(latencyAvgMs * 2, jitterAvgMs, lossPct);
    const tags = s ? gatewayTags(s).map((t) => (t === 'silence' ? 'detected_silence' : t)) : [];
    if (direction === 'inbound' && rtt && rtt.avg > TAG_THRESHOLDS.rttMs) tags.push('high_latency');
    if (mos < TAG_THRESHOLDS.mos) tags.push('low_mos');
    return {
      packetsReceived: s?.packetsReceived ?? 0,
      packetsLost: s?.packetsLost ?? 0,
      lossPct,
      jitterAvgMs,
      jitterMaxMs: s?.jitterMaxMs ?? 0,
      latencyAvgMs,
      latencyMaxMs: latency?.max ?? GATEWAY_LATENCY_MS,
      mos,
      tags,
    };
  };
  return { inbound: of('inbound'), outbound: of('outbound') };
}
