// `com.twilio.voice.insights.call-metrics.gateway|sdk` (schema VoiceInsights.CallMetric) ->
// CallMetricSample. Field reference: /work/shared/reference/twilio-call-insights.md §3;
// https://www.twilio.com/docs/events/event-types/voice-insights/voice-sdk-metrics.
// Units (§8.7): jitter/rtt/latency ms -> s, packets_loss_percentage % -> ratio, MOS and the SDK's raw
// 0..32767 audio levels unitless. Absent stays absent: Twilio sends sparse stat objects (§8.6).
import { z } from 'zod';
import type { Converter } from './family.js';
import type { CallMetricSample, EventSource, MetricValues, StreamDirection } from './types.js';
import {
  compact,
  count,
  isoTimestamp,
  num,
  optLowerString,
  optString,
  percentToRatio,
  requiredId,
  resolveEdge,
  statField,
  toFieldIssues,
} from './fields.js';

/** The `Metrics` definition shared by `interval` and `cumulative` (§3 table). */
const metricsBlock = z.object({
  codec: num,
  codec_name: optLowerString,
  packets_received: count,
  packets_sent: count,
  packets_lost: count,
  packets_loss_percentage: percentToRatio,
  jitter: statField(3),
  rtt: statField(3),
  latency: statField(3),
  mos: statField(),
  audio_in: statField(),
  audio_out: statField(),
  bytes_received: count,
  bytes_sent: count,
  // Bucket semantics unconfirmed (§3); accepted, not converted yet.
  packet_delay_variation: z.unknown().optional(),
});

/** Per-edge object (`ClientMetrics` in CallMetric/2): codec, interval, cumulative, metadata. */
const metricEdge = z.object({
  codec: num,
  codec_name: optLowerString,
  interval: metricsBlock.nullish(),
  cumulative: metricsBlock.nullish(),
  // Gateway metadata carries region (+ IPs, not used here); SDK metadata is ClientMetadata without region (§3).
  metadata: z.object({ region: optString }).nullish(),
});

const DIRECTIONS: readonly StreamDirection[] = ['inbound', 'outbound', 'both', 'unknown'];

const direction = z
  .unknown()
  .transform((value): StreamDirection | undefined => {
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    const lower = value.trim().toLowerCase();
    return DIRECTIONS.find((known) => known === lower) ?? 'unknown';
  })
  .optional();

export const callMetricDataSchema = z.object({
  call_sid: requiredId,
  account_sid: optString,
  timestamp: isoTimestamp,
  edge: optString,
  direction,
  carrier_edge: metricEdge.nullish(),
  sip_edge: metricEdge.nullish(),
  client_edge: metricEdge.nullish(),
  sdk_edge: metricEdge.nullish(),
});

type MetricsBlock = z.output<typeof metricsBlock>;

function toMetricValues(block: MetricsBlock | null | undefined): MetricValues {
  if (block == null) return {};
  return compact<MetricValues>({
    packetsReceived: block.packets_received,
    packetsSent: block.packets_sent,
    packetsLost: block.packets_lost,
    packetLossRatio: block.packets_loss_percentage,
    jitterSeconds: block.jitter,
    rttSeconds: block.rtt,
    mos: block.mos,
    latencySeconds: block.latency,
    audioIn: block.audio_in,
    audioOut: block.audio_out,
    bytesReceived: block.bytes_received,
    bytesSent: block.bytes_sent,
  });
}

/**
 * Stream direction: known values as sent, anything else 'unknown'. SDK samples are always 'both' per
 * the REST Call Metrics doc (§3), so an SDK sample with no (or the default 'unknown') direction is 'both'.
 */
function streamDirection(sent: StreamDirection | undefined, source: EventSource): StreamDirection {
  if (source === 'sdk' && (sent === undefined || sent === 'unknown')) return 'both';
  return sent ?? 'unknown';
}

export function convertCallMetric(source: EventSource): Converter<CallMetricSample> {
  return (envelope) => {
    const parsed = callMetricDataSchema.safeParse(envelope.data);
    if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
    const data = parsed.data;
    const timestamp = data.timestamp ?? envelope.info.time;
    if (timestamp === undefined) {
      return {
        ok: false,
        issues: [{ path: 'data.timestamp', message: 'Required: no data.timestamp and no CloudEvent time' }],
      };
    }
    const { edge } = resolveEdge(data.edge, data, source);
    const edgeData = edge === undefined ? undefined : data[edge];
    const sample: CallMetricSample = {
      kind: 'call-metric',
      callSid: data.call_sid,
      accountSid: data.account_sid,
      timestamp,
      source,
      edge,
      streamDirection: streamDirection(data.direction, source),
      // The generated CallMetric/2 example also repeats codec_name inside `interval` (§3).
      codec: edgeData?.codec_name ?? edgeData?.interval?.codec_name,
      region: edgeData?.metadata?.region,
      interval: toMetricValues(edgeData?.interval),
      cumulative: toMetricValues(edgeData?.cumulative),
    };
    return { ok: true, value: sample };
  };
}
