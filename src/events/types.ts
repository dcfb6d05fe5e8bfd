// Plain, typed, unit-normalised data handed from the events stage to the metrics and trace stages.
// Nothing here knows about zod, Koa or OpenTelemetry. Units: seconds, ratios (0..1), epoch ms for
// instants. `undefined` always means "Twilio sent no usable value" (absent, null, "" or a sentinel
// such as unknown_edge / unknown_codec_name); zero is only ever a real zero.
// Twilio field reference: ../../shared/reference/twilio-call-insights.md (sections 2-4).

/** Every CloudEvent `type` this exporter understands. Adding one is a compile error until it has a handler. */
export const EVENT_TYPES = [
  'com.twilio.voice.insights.call-event.gateway',
  'com.twilio.voice.insights.call-event.sdk',
  'com.twilio.voice.insights.call-metrics.gateway',
  'com.twilio.voice.insights.call-metrics.sdk',
  'com.twilio.voice.insights.call-summary.partial',
  'com.twilio.voice.insights.call-summary.predicted-complete',
  'com.twilio.voice.insights.call-summary.complete',
  'com.twilio.voice.insights.conference-summary.partial',
  'com.twilio.voice.insights.conference-summary.complete',
  'com.twilio.voice.insights.conference-participant-summary.complete',
  // The Conference Insights guide spells the participant type this way; the event-type reference page
  // (the one to subscribe with) says conference-participant-summary (reference section 7). Both are accepted.
  'com.twilio.voice.insights.participant-summary.complete',
  'com.twilio.eventstreams.test-event',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(type: string): type is EventType {
  return (EVENT_TYPES as readonly string[]).includes(type);
}

/** Media edges as Twilio names them; `unknown_edge` maps to undefined. */
export type MediaEdge = 'carrier_edge' | 'sip_edge' | 'client_edge' | 'sdk_edge';
export const MEDIA_EDGES: readonly MediaEdge[] = ['carrier_edge', 'sip_edge', 'client_edge', 'sdk_edge'];

/** Who reported: a Twilio media gateway or a Voice SDK. */
export type EventSource = 'gateway' | 'sdk';
export type StreamDirection = 'inbound' | 'outbound' | 'both' | 'unknown';
export type EventLevel = 'UNKNOWN' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type SummaryStage = 'partial' | 'predicted-complete' | 'complete';

/** What the envelope tells about one CloudEvent, common to every family. */
export interface EnvelopeInfo {
  id: string;
  type: string;
  /** Schema version from `dataschema` (".../VoiceInsights.CallMetric/2" -> 2); undefined if absent or unparsable. */
  schemaVersion: number | undefined;
  /** Schema name from `dataschema` ("VoiceInsights.CallMetric"), undefined if absent. */
  schemaName: string | undefined;
  /** CloudEvent `time` as epoch ms, undefined when missing (generated Twilio examples omit it). */
  time: number | undefined;
}

/** min/max/avg/value statistics as Twilio sends them, already converted to base units. */
export interface Stat {
  min?: number;
  max?: number;
  avg?: number;
  value?: number;
}

/** One edge's figures for one interval (or cumulative since call start). Base units. */
export interface MetricValues {
  packetsReceived?: number;
  packetsSent?: number;
  packetsLost?: number;
  /** 0..1, converted from Twilio's packets_loss_percentage (0..100). */
  packetLossRatio?: number;
  jitterSeconds?: Stat;
  rttSeconds?: Stat;
  mos?: Stat;
  latencySeconds?: Stat;
  /** SDK raw audio level 0..32767 (unitless). */
  audioIn?: Stat;
  audioOut?: Stat;
  bytesReceived?: number;
  bytesSent?: number;
}

/** One `call-metrics.gateway|sdk` event. */
export interface CallMetricSample {
  kind: 'call-metric';
  callSid: string;
  accountSid: string | undefined;
  /** Sample time (data.timestamp, else CloudEvent time), epoch ms. */
  timestamp: number;
  source: EventSource;
  /** The reporting edge: the non-null `*_edge` object, else the `edge` field; undefined if unknown. */
  edge: MediaEdge | undefined;
  streamDirection: StreamDirection;
  /** Codec name lowercased ("pcmu", "opus"); undefined for unknown_codec_name / "". */
  codec: string | undefined;
  /** Twilio region of the edge ("us1"), undefined if not sent. */
  region: string | undefined;
  interval: MetricValues;
  cumulative: MetricValues;
}

/** One `call-event.gateway|sdk` event. */
export interface CallEventRecord {
  kind: 'call-event';
  callSid: string;
  accountSid: string | undefined;
  timestamp: number;
  source: EventSource;
  edge: MediaEdge | undefined;
  /** Edge location ("ashburn") when Twilio sent one (in `edge` or edge metadata). */
  edgeLocation: string | undefined;
  region: string | undefined;
  group: string;
  name: string;
  level: EventLevel;
  errorCode: number | undefined;
  errorMessage: string | undefined;
  /** SDK warning details, when present. */
  metricThreshold: number | undefined;
  metricValues: number[] | undefined;
  feedbackScore: number | undefined;
  feedbackReason: string | undefined;
  /** Low-cardinality, non-PII extra details (sdk type/version, browser, ice candidate types, country). */
  details: Record<string, string | number | boolean>;
  /** PII (client identity, IPs, city, coordinates); only emitted when redaction is switched off. */
  sensitive: Record<string, string | number>;
}

/** Caller/callee side of a call summary. */
export interface Party {
  /** PII: caller ID / dialed destination (E.164, client:NAME, SIP URI). */
  number: string | undefined;
  carrier: string | undefined;
  connection: string | undefined;
  countryCode: string | undefined;
  numberPrefix: string | undefined;
  /** PII. */
  ipAddress: string | undefined;
  city: string | undefined;
  countrySubdivision: string | undefined;
}

/** Per-direction quality figures of one edge in a summary. Base units. */
export interface EdgeDirectionQuality {
  codec: string | undefined;
  packetsReceived: number | undefined;
  packetsSent: number | undefined;
  packetsLost: number | undefined;
  packetLossRatio: number | undefined;
  jitterAvgSeconds: number | undefined;
  jitterMaxSeconds: number | undefined;
  latencyAvgSeconds: number | undefined;
  mosAvg: number | undefined;
  mosMin: number | undefined;
  rttAvgSeconds: number | undefined;
  /** SDK edge only (reference §4.3): MOS and RTT maxima, audio levels on the raw 0..32767 scale. */
  mosMax?: number | undefined;
  rttMaxSeconds?: number | undefined;
  audioInAvg?: number | undefined;
  audioInMax?: number | undefined;
  audioOutAvg?: number | undefined;
  audioOutMax?: number | undefined;
}

/** `sdk_edge.events` of a summary: counts by level, group and error code, and the user's feedback. */
export interface SdkEdgeEvents {
  /** Level ("WARNING") -> count. Keys are Twilio's, kept only when they look like identifiers. */
  levels: Record<string, number>;
  /** Event group ("network-quality-warning-raised") -> count. */
  groups: Record<string, number>;
  /** Error code ("31600") -> count. */
  errors: Record<string, number>;
  feedbackScore: number | undefined;
  feedbackReason: string | undefined;
}

/** `trust` of a summary (v2+; REST names, with the 2022 Event Streams `branded_call` spelling folded in). */
export interface TrustSummary {
  /** STIR/SHAKEN: trust.verified_caller.verified. */
  verifiedCaller: boolean | undefined;
  brandedEnabled: boolean | undefined;
  /** in_band | out_of_band. */
  brandedType: string | undefined;
  brandedUseCase: string | undefined;
  brandedLogo: boolean | undefined;
  voiceIntegrityEnabled: boolean | undefined;
  voiceIntegrityUseCase: string | undefined;
  businessProfileIndustry: string | undefined;
  businessProfileType: string | undefined;
}

/** `annotation` of a summary (reference §4.7): what the customer labelled the call with. */
export interface AnnotationSummary {
  /** 1..5 (5 excellent); anything else is no value. */
  callScore: number | undefined;
  qualityIssues: string[];
  spam: boolean | undefined;
  connectivityIssue: string | undefined;
  /** human | machine (not the AMD enum). */
  answeredBy: string | undefined;
  /** Free text: PII-like, redacted downstream unless exposed. */
  comment: string | undefined;
  incident: string | undefined;
}

/** Region fields of the summary's edge-agnostic `properties` (v1 carries them there). */
export interface CallRegions {
  region: string | undefined;
  mediaRegion: string | undefined;
  signalingRegion: string | undefined;
  selectedRegion: string | undefined;
  edgeLocation: string | undefined;
}

export interface EdgeSummary {
  edge: MediaEdge;
  inbound: EdgeDirectionQuality | undefined;
  outbound: EdgeDirectionQuality | undefined;
  region: string | undefined;
  edgeLocation: string | undefined;
  /** `<edge>.properties` (reference §4.3): the edge's view of the call. */
  direction?: string | undefined;
  mediaRegion?: string | undefined;
  signalingRegion?: string | undefined;
  selectedRegion?: string | undefined;
  trunkSid?: string | undefined;
  disconnectedBy?: string | undefined;
  /** sdk_edge only. */
  sdkEvents?: SdkEdgeEvents | undefined;
  /** PII-ish network details, redacted by default downstream. */
  sensitive: Record<string, string>;
}

/** One `call-summary.*` event: a full snapshot of what Twilio knows about the call. */
export interface CallSummaryRecord {
  kind: 'call-summary';
  callSid: string;
  accountSid: string | undefined;
  stage: SummaryStage;
  /** Orders snapshots of one call; 0 when Twilio sent none. */
  processingVersion: number;
  /** data.processing_state: "partial" | "complete" (open string). */
  processingState: string | undefined;
  callType: string | undefined;
  callState: string | undefined;
  /** properties.direction with Twilio's underscores ("outbound_api"). */
  direction: string | undefined;
  answeredBy: string | undefined;
  createdTime: number | undefined;
  startTime: number | undefined;
  endTime: number | undefined;
  durationSeconds: number | undefined;
  connectDurationSeconds: number | undefined;
  disconnectedBy: string | undefined;
  postDialDelaySeconds: number | undefined;
  queueTimeSeconds: number | undefined;
  lastSipResponse: number | undefined;
  q850Cause: number | undefined;
  tags: string[];
  from: Party;
  to: Party;
  edges: EdgeSummary[];
  parentCallSid: string | undefined;
  conferenceParticipant: boolean | undefined;
  parentAccountSid?: string | undefined;
  regions?: CallRegions | undefined;
  trust?: TrustSummary | undefined;
  annotation?: AnnotationSummary | undefined;
}

/** The sink test event Twilio sends when a sink is created or tested. */
export interface SinkTestRecord {
  kind: 'sink-test';
  testId: string | undefined;
}

export type ConferenceSummaryStage = 'partial' | 'complete';

/**
 * One `conference-summary.partial|complete` event (VoiceInsights.ConferenceSummary v1/v2; reference
 * section 7, REST https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-summary-resource).
 */
export interface ConferenceSummaryRecord {
  kind: 'conference-summary';
  conferenceSid: string;
  accountSid: string | undefined;
  stage: ConferenceSummaryStage;
  /** PII per Twilio (a user-chosen label, often a customer or queue name): redacted downstream. */
  friendlyName: string | undefined;
  createTime: number | undefined;
  /** Conferences start once two participants joined, one with startConferenceOnEnter. */
  startTime: number | undefined;
  endTime: number | undefined;
  durationSeconds: number | undefined;
  connectDurationSeconds: number | undefined;
  /** in_progress | not_started | completed | summary_timeout (open string). */
  status: string | undefined;
  /** in_progress | complete | timeout. */
  processingState: string | undefined;
  maxParticipants: number | undefined;
  maxConcurrentParticipants: number | undefined;
  uniqueParticipants: number | undefined;
  /** last_participant_left | conference_ended_via_api | participant_with_end_conference_on_exit_left | ... */
  endReason: string | undefined;
  /** The CallSid whose action ended the conference. */
  endedBy: string | undefined;
  mixerRegion: string | undefined;
  mixerRegionRequested: string | undefined;
  recordingEnabled: boolean | undefined;
  /** detected_issues: {call_quality: 1, region_configuration: 0, participant_behavior: 3}. */
  detectedIssues: Record<string, number>;
  tags: string[];
}

/** One direction of a participant's quality figures (participant summary `metrics`). Base units. */
export interface ParticipantQuality {
  packetsReceived: number | undefined;
  packetsLost: number | undefined;
  packetLossRatio: number | undefined;
  jitterAvgSeconds: number | undefined;
  jitterMaxSeconds: number | undefined;
  latencyAvgSeconds: number | undefined;
  latencyMaxSeconds: number | undefined;
  mos: number | undefined;
  /** Per-direction tags Twilio adds ("silent"). */
  tags: string[];
}

/** One participant action from the summary's `events` (hold, unhold, mute, coaching, ...), at its time. */
export interface ParticipantAction {
  name: string;
  /** Epoch ms (Twilio sends Unix epoch numbers here, unlike the ISO strings everywhere else; section 8 item 7). */
  timeMs: number;
}

/**
 * One `conference-participant-summary.complete` (or the guide's `participant-summary.complete`) event:
 * one leg of a conference, sent when it leaves (VoiceInsights.ConferenceParticipantSummary v1/v2;
 * REST https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-participant-summary-resource).
 */
export interface ParticipantSummaryRecord {
  kind: 'participant-summary';
  conferenceSid: string;
  participantSid: string | undefined;
  /** The leg's call: its trace is linked from the participant span and back. */
  callSid: string | undefined;
  accountSid: string | undefined;
  /** PII per Twilio (user-chosen; Flex puts "customer", "worker" here). */
  label: string | undefined;
  /** inbound | outbound. */
  callDirection: string | undefined;
  /** PII. */
  from: string | undefined;
  to: string | undefined;
  /** answered | completed | busy | fail | noanswer | ringing | canceled. */
  callStatus: string | undefined;
  countryCode: string | undefined;
  isModerator: boolean | undefined;
  joinTime: number | undefined;
  leaveTime: number | undefined;
  durationSeconds: number | undefined;
  outboundQueueLength: number | undefined;
  /** outbound_time_in_queue (Add Participant API only), converted to seconds. */
  outboundTimeInQueueSeconds: number | undefined;
  /** large | small | medium | off. */
  jitterBufferSize: string | undefined;
  isCoach: boolean | undefined;
  /** CallSids this participant coached. */
  coachedParticipants: string[];
  participantRegion: string | undefined;
  conferenceRegion: string | undefined;
  /** carrier | client | sip. */
  callType: string | undefined;
  processingState: string | undefined;
  /** `properties`: start_conference_on_enter, end_conference_on_exit, enter_muted, beep_on_enter, ... */
  properties: Record<string, string | number | boolean>;
  /** `events`, flattened and sorted by time. */
  actions: ParticipantAction[];
  /** `metrics.inbound|outbound` as Twilio names them (the direction as seen from Twilio's side of the leg). */
  inbound: ParticipantQuality | undefined;
  outbound: ParticipantQuality | undefined;
}

export type ConvertedEvent =
  | CallMetricSample
  | CallEventRecord
  | CallSummaryRecord
  | ConferenceSummaryRecord
  | ParticipantSummaryRecord
  | SinkTestRecord;
