// `com.twilio.voice.insights.call-summary.partial|predicted-complete|complete` (schema
// VoiceInsights.CallSummary v1/v2) -> CallSummaryRecord. Each event is a full snapshot of the call
// (§8.11). Field reference: /work/shared/reference/twilio-call-insights.md §4;
// https://www.twilio.com/docs/voice/voice-insights/api/call/details-call-summary.
// Only call_sid is required: partials are sparse and full of schema defaults ("", 0, unknown_*, null).
import { z } from 'zod';
import type { Converter } from './family.js';
import { MEDIA_EDGES } from './types.js';
import type {
  AnnotationSummary,
  CallRegions,
  CallSummaryRecord,
  EdgeDirectionQuality,
  EdgeSummary,
  MediaEdge,
  Party,
  SdkEdgeEvents,
  SummaryStage,
  TrustSummary,
} from './types.js';
import {
  count,
  countMap,
  definedEntries,
  lenient,
  tagList,
  toTags,
  isNoValue,
  isoTimestamp,
  msToSeconds,
  num,
  optBoolean,
  optLowerString,
  optString,
  percentToRatio,
  requiredId,
  statField,
  toFieldIssues,
} from './fields.js';

/** `from` / `to` (§4.2). location and sdk are not used and stripped. */
const party = z.object({
  caller: optString,
  callee: optString,
  carrier: optString,
  connection: optString,
  number_prefix: optString,
  country_code: optString,
  ip_address: optString,
  city: optString,
  country_subdivision: optString,
});

/** `<edge>.metrics.inbound|outbound` (§4.3); sdk_edge adds mos/rtt/audio. */
const directionMetrics = z.object({
  codec: num,
  codec_name: optLowerString,
  packets_received: count,
  packets_sent: count,
  packets_lost: count,
  packets_loss_percentage: percentToRatio,
  jitter: statField(3),
  latency: statField(3),
  mos: statField(),
  rtt: statField(3),
  audio_in: statField(),
  audio_out: statField(),
  packet_delay_variation: z.unknown().optional(),
});

/** `sdk_edge.events` (reference §4.3; Twilio changelog 2020-04-27: levels, groups, errors, feedback). */
const sdkEvents = z.object({
  levels: countMap,
  groups: countMap,
  errors: countMap,
  feedback: lenient(z.object({ score: num, reason: optString, issue: optString })),
});

/** `<edge>.properties` (§4.3): the network details are kept apart as `sensitive`. */
const edgeProperties = z.object({
  region: optString,
  media_region: optString,
  edge_location: optLowerString,
  twilio_media_ip: optString,
  twilio_signaling_ip: optString,
  external_media_ip: optString,
  external_signaling_ip: optString,
  sip_call_id: optString,
  user_agent: optString,
  direction: optLowerString,
  signaling_region: optString,
  selected_region: optString,
  trunk_sid: optString,
  disconnected_by: optLowerString,
});

const summaryEdge = z.object({
  metrics: z.object({ inbound: directionMetrics.nullish(), outbound: directionMetrics.nullish() }).nullish(),
  properties: edgeProperties.nullish(),
  events: lenient(sdkEvents),
});

/**
 * `trust` (reference §4.6): REST names (verified_caller, branded, voice_integrity, business_profile)
 * and the 2022 Event Streams v2 `branded_call {branded, use_case}`. Every part optional.
 */
const trust = z.object({
  verified_caller: lenient(z.object({ verified: optBoolean })),
  branded: lenient(z.object({ enabled: optBoolean, type: optLowerString, use_case: optString, logo: optBoolean })),
  branded_call: lenient(z.object({ branded: optBoolean, use_case: optString })),
  voice_integrity: lenient(z.object({ enabled: optBoolean, use_case: optString })),
  business_profile: lenient(z.object({ industry: optString, type: optLowerString })),
});

/** Annotation call scores are 1..5 (5 excellent); 0 and anything else mean "not scored". */
const callScore = z
  .unknown()
  .transform((value): number | undefined => {
    const n = typeof value === 'string' && /^\d$/.test(value.trim()) ? Number(value) : value;
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 5 ? n : undefined;
  })
  .optional();

/** `annotation` (reference §4.7, OAI `insights.v1.call.annotation`). */
const annotation = z.object({
  call_score: callScore,
  quality_issues: lenient(z.array(z.string().max(64)).max(50)),
  spam: lenient(optBoolean),
  connectivity_issue: lenient(optLowerString),
  answered_by: lenient(optLowerString),
  comment: lenient(optString),
  incident: lenient(optString),
});

/** Edge-agnostic `properties` (§4.4). */
const properties = z.object({
  pdd_ms: msToSeconds,
  queue_time: msToSeconds,
  last_sip_response_num: num,
  q850_cause: num,
  direction: optLowerString,
  disconnected_by: optLowerString,
  // v1 carries the region fields here, edge-agnostic (WHQ example; reference §4.4).
  region: optString,
  media_region: optString,
  signaling_region: optString,
  selected_region: optString,
  edge_location: optLowerString,
});

// trust and annotation differ by schema version and source (§4.6, §4.7): read leniently, a part that
// does not fit is dropped rather than failing the summary. Unknown keys are stripped by z.object.
export const callSummaryDataSchema = z.object({
  call_sid: requiredId,
  account_sid: optString,
  parent_call_sid: optString,
  parent_account_sid: optString,
  call_type: optLowerString,
  call_state: optLowerString,
  answered_by: optLowerString,
  processing_state: optLowerString,
  processing_version: num,
  created_time: isoTimestamp,
  start_time: isoTimestamp,
  end_time: isoTimestamp,
  // Already seconds, unlike the ms fields in properties (§4.1, §8.7).
  duration: count,
  connect_duration: count,
  from: party.nullish(),
  to: party.nullish(),
  carrier_edge: summaryEdge.nullish(),
  sip_edge: summaryEdge.nullish(),
  client_edge: summaryEdge.nullish(),
  sdk_edge: summaryEdge.nullish(),
  tags: tagList,
  attributes: z.object({ conference_participant: optBoolean }).nullish(),
  properties: properties.nullish(),
  trust: lenient(trust),
  annotation: lenient(annotation),
});

type SummaryData = z.output<typeof callSummaryDataSchema>;
type PartyData = z.output<typeof party>;
type DirectionData = z.output<typeof directionMetrics>;
type EdgeData = z.output<typeof summaryEdge>;

function toParty(raw: PartyData | null | undefined, side: 'from' | 'to'): Party {
  // from carries the caller ID in `caller`, to the dialed destination in `callee` (§4.2, WHQ example).
  const number = side === 'from' ? (raw?.caller ?? raw?.callee) : (raw?.callee ?? raw?.caller);
  return {
    number,
    carrier: raw?.carrier,
    connection: raw?.connection,
    countryCode: raw?.country_code,
    numberPrefix: raw?.number_prefix,
    ipAddress: raw?.ip_address,
    city: raw?.city,
    countrySubdivision: raw?.country_subdivision,
  };
}

function toQuality(raw: DirectionData | null | undefined): EdgeDirectionQuality | undefined {
  if (raw == null) return undefined;
  return {
    codec: raw.codec_name,
    packetsReceived: raw.packets_received,
    packetsSent: raw.packets_sent,
    packetsLost: raw.packets_lost,
    packetLossRatio: raw.packets_loss_percentage,
    jitterAvgSeconds: raw.jitter?.avg,
    jitterMaxSeconds: raw.jitter?.max,
    latencyAvgSeconds: raw.latency?.avg,
    mosAvg: raw.mos?.avg,
    mosMin: raw.mos?.min,
    rttAvgSeconds: raw.rtt?.avg,
    mosMax: raw.mos?.max,
    rttMaxSeconds: raw.rtt?.max,
    audioInAvg: raw.audio_in?.avg,
    audioInMax: raw.audio_in?.max,
    audioOutAvg: raw.audio_out?.avg,
    audioOutMax: raw.audio_out?.max,
  };
}

function toSdkEvents(raw: EdgeData['events']): SdkEdgeEvents | undefined {
  if (raw == null) return undefined;
  const feedbackScore = raw.feedback?.score;
  return {
    levels: raw.levels,
    groups: raw.groups,
    errors: raw.errors,
    feedbackScore: feedbackScore === 0 ? undefined : feedbackScore,
    feedbackReason: raw.feedback?.reason ?? raw.feedback?.issue,
  };
}

function toTrust(raw: SummaryData['trust']): TrustSummary | undefined {
  if (raw == null) return undefined;
  const trust: TrustSummary = {
    verifiedCaller: raw.verified_caller?.verified,
    brandedEnabled: raw.branded?.enabled ?? raw.branded_call?.branded,
    brandedType: raw.branded?.type,
    brandedUseCase: raw.branded?.use_case ?? raw.branded_call?.use_case,
    brandedLogo: raw.branded?.logo,
    voiceIntegrityEnabled: raw.voice_integrity?.enabled,
    voiceIntegrityUseCase: raw.voice_integrity?.use_case,
    businessProfileIndustry: raw.business_profile?.industry,
    businessProfileType: raw.business_profile?.type,
  };
  return Object.values(trust).every((v) => v === undefined) ? undefined : trust;
}

function toAnnotation(raw: SummaryData['annotation']): AnnotationSummary | undefined {
  if (raw == null) return undefined;
  const issues = toTags(raw.quality_issues?.map((issue) => issue.toLowerCase())).filter((issue) => !isNoValue(issue));
  const annotation: AnnotationSummary = {
    callScore: raw.call_score,
    qualityIssues: issues,
    spam: raw.spam,
    connectivityIssue: raw.connectivity_issue,
    answeredBy: raw.answered_by,
    comment: raw.comment,
    incident: raw.incident,
  };
  const empty = Object.entries(annotation).every(([k, v]) =>
    k === 'qualityIssues' ? issues.length === 0 : v === undefined,
  );
  return empty ? undefined : annotation;
}

function toRegions(props: SummaryData['properties']): CallRegions | undefined {
  if (props == null) return undefined;
  const regions: CallRegions = {
    region: props.region,
    mediaRegion: props.media_region,
    signalingRegion: props.signaling_region,
    selectedRegion: props.selected_region,
    edgeLocation: props.edge_location,
  };
  return Object.values(regions).every((v) => v === undefined) ? undefined : regions;
}

function toEdgeSummary(edge: MediaEdge, raw: EdgeData): EdgeSummary {
  const props = raw.properties;
  return {
    edge,
    inbound: toQuality(raw.metrics?.inbound),
    outbound: toQuality(raw.metrics?.outbound),
    region: props?.region ?? props?.media_region,
    edgeLocation: props?.edge_location,
    direction: props?.direction,
    mediaRegion: props?.media_region,
    signalingRegion: props?.signaling_region,
    selectedRegion: props?.selected_region,
    trunkSid: props?.trunk_sid,
    disconnectedBy: props?.disconnected_by,
    sdkEvents: toSdkEvents(raw.events),
    sensitive: definedEntries<string>({
      twilio_media_ip: props?.twilio_media_ip,
      twilio_signaling_ip: props?.twilio_signaling_ip,
      external_media_ip: props?.external_media_ip,
      external_signaling_ip: props?.external_signaling_ip,
      sip_call_id: props?.sip_call_id,
      user_agent: props?.user_agent,
    }),
  };
}

function toEdges(data: SummaryData): EdgeSummary[] {
  const edges: EdgeSummary[] = [];
  for (const edge of MEDIA_EDGES) {
    const raw = data[edge];
    if (raw != null) edges.push(toEdgeSummary(edge, raw));
  }
  return edges;
}

/** 0 is the schema default for unset integer codes (WHQ v1 example: q850_cause 0, last_sip_response_num 0); neither is a real code. */
function nonZero(value: number | undefined): number | undefined {
  return value === 0 ? undefined : value;
}

export function convertCallSummary(stage: SummaryStage): Converter<CallSummaryRecord> {
  return (envelope) => {
    const parsed = callSummaryDataSchema.safeParse(envelope.data);
    if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
    const data = parsed.data;
    const props = data.properties;
    const record: CallSummaryRecord = {
      kind: 'call-summary',
      callSid: data.call_sid,
      accountSid: data.account_sid,
      stage,
      processingVersion: data.processing_version ?? 0,
      processingState: data.processing_state,
      callType: data.call_type,
      callState: data.call_state,
      direction: props?.direction,
      answeredBy: data.answered_by,
      createdTime: data.created_time,
      startTime: data.start_time,
      endTime: data.end_time,
      durationSeconds: data.duration,
      connectDurationSeconds: data.connect_duration,
      disconnectedBy: props?.disconnected_by,
      // pdd_ms 0 is the v1 default on partials (WHQ example); a real post-dial delay is never exactly 0 ms.
      postDialDelaySeconds: nonZero(props?.pdd_ms),
      queueTimeSeconds: props?.queue_time,
      lastSipResponse: nonZero(props?.last_sip_response_num),
      q850Cause: nonZero(props?.q850_cause),
      tags: data.tags,
      from: toParty(data.from, 'from'),
      to: toParty(data.to, 'to'),
      edges: toEdges(data),
      parentCallSid: data.parent_call_sid,
      conferenceParticipant: data.attributes?.conference_participant,
      parentAccountSid: data.parent_account_sid,
      regions: toRegions(props),
      trust: toTrust(data.trust),
      annotation: toAnnotation(data.annotation),
    };
    return { ok: true, value: record };
  };
}
