// The one metrics catalog. Every instrument is created from a row here; the README's metrics table,
// the dashboards and the alert rules follow it (tests hold them to it). `name` is the Prometheus name
// as scraped from /metrics (counters end in `_total`; the OTel instrument name is the same without
// it, because the Prometheus exporter appends `_total` itself and never appends units:
// https://github.com/open-telemetry/opentelemetry-js/tree/main/experimental/packages/opentelemetry-exporter-prometheus).
import { EVENT_TYPES } from '../events/types.js';

export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface MetricDef {
  readonly name: string;
  readonly kind: MetricKind;
  /** UCUM unit for OTLP; Prometheus names carry the base unit in the name. */
  readonly unit: string;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
  /**
   * Fixed label value sets exposed at 0 from start, so alerts and dashboards work before the first failure:
   * per label a value set (every combination is exposed), or the exact label sets when only some combine.
   */
  readonly preset?: Readonly<Record<string, readonly string[]>> | readonly Readonly<Record<string, string>>[];
  /** Where the value comes from, for the README. */
  readonly source: string;
}

/** Label values of a metric, typed by its catalog row. */
export type LabelsOf<D extends MetricDef> = { [K in D['labels'][number]]: string };

/**
 * Status codes requests to WEBHOOK_PATH can be answered (DESIGN section 3); 408 is node's own answer to a
 * client too slow to send its request. No 404: unknown paths are answered so but not counted.
 */
export const WEBHOOK_CODES = ['200', '400', '401', '403', '405', '408', '413', '415', '500', '503'] as const;
export const EVENT_OUTCOMES = ['accepted', 'duplicate', 'invalid', 'unknown_type'] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];
export const SIGNATURE_FAILURE_REASONS = [
  'missing_signature',
  'missing_body_hash',
  'body_hash_mismatch',
  'bad_signature',
  'basic_auth_missing',
  'basic_auth_wrong',
] as const;
export type SignatureFailureReason = (typeof SIGNATURE_FAILURE_REASONS)[number];
/** Any CloudEvent type outside EVENT_TYPES is counted under this value, so the label stays bounded. */
export const OTHER_TYPE = 'other';
export const TYPE_LABEL_VALUES: readonly string[] = [...EVENT_TYPES, OTHER_TYPE];

/**
 * Every (metric, label) pair the label limiter bounds (METRIC_LABEL_MAX_VALUES): `metric` is the value
 * family the recorders pass (interval metrics and once-per-call metrics each share one value set per label).
 */
export const LIMITED_LABELS: readonly { readonly metric: string; readonly label: string }[] = [
  ...['codec', 'region'].map((label) => ({ metric: 'twilio_voice_interval_*', label })),
  ...['group', 'name'].map((label) => ({ metric: 'twilio_voice_call_events_total', label })),
  ...['call_type', 'call_direction', 'call_state', 'disconnected_by', 'tag'].map((label) => ({
    metric: 'twilio_voice_call*',
    label,
  })),
  // Conference labels take Twilio's documented values only: anything else folds into `other`.
  ...['status', 'end_reason', 'tag', 'call_type', 'call_direction'].map((label) => ({
    metric: 'twilio_voice_conference*',
    label,
  })),
];

const SELF = 'voice_insights_exporter_';
/** Request latency, seconds: Twilio waits at most 5 s for an answer (reference section 5). */
const REQUEST_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Bucket boundaries include Twilio's own thresholds exactly, so alert rules can cut at them
// (https://www.twilio.com/docs/voice/insights/api/voice-insights-call-tags and the SDK warning
// thresholds, reference sections 2.2 and 4.5): jitter 5 ms and 30 ms, packet loss 1 % and 5 %,
// RTT 400 ms, MOS 3.5 (and the MOS bands), latency 150 ms.
export const JITTER_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5];
export const RTT_SECONDS = [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2];
/** MOS bands (bad < 2.6 <= poor < 3.1 <= fair < 3.6 <= good < 4.0 <= excellent), fine above Twilio's 3.5. */
export const MOS_BANDS = [1, 1.5, 2, 2.6, 3.1, 3.5, 3.6, 3.7, 3.8, 3.9, 4, 4.1, 4.2, 4.3, 4.4, 4.5, 5];
/** le="0" counts loss-free intervals exactly; most are. */
export const LOSS_RATIO = [0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1];
/** SDK raw audio level, 0..32767. */
export const AUDIO_LEVEL = [0, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 32767];
export const CALL_DURATION_SECONDS = [1, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200];
/** Post-dial delay: Twilio tags high_pdd above a per-country p95, typically a few seconds. */
export const PDD_SECONDS = [0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30];
export const QUEUE_SECONDS = [0, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
/** Conference participant counts: small integers, up to Twilio's 250 concurrent participants. */
export const PARTICIPANT_COUNTS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100, 250];
/** Receive time minus event time: events come within ~90 s, summaries up to 30 min, retries up to 4 h. */
export const LAG_SECONDS = [1, 5, 10, 30, 60, 90, 120, 300, 600, 900, 1800, 3600, 7200, 14400];

export const SELF_METRICS = {
  webhookRequests: {
    name: `${SELF}webhook_requests_total`,
    kind: 'counter',
    unit: '{request}',
    help: 'Requests to WEBHOOK_PATH answered, by HTTP status code; /healthz, /readyz and other paths are not counted.',
    labels: ['code'],
    preset: { code: WEBHOOK_CODES },
    source:
      'every request to WEBHOOK_PATH (a method other than POST is 405), and 408 for a connection whose request headers never arrived',
  },
  webhookDuration: {
    name: `${SELF}webhook_request_duration_seconds`,
    kind: 'histogram',
    unit: 's',
    help: 'Time from request start to answer for requests to WEBHOOK_PATH, by HTTP status code; /healthz, /readyz and other paths are not counted.',
    labels: ['code'],
    buckets: REQUEST_SECONDS,
    source: 'requests to WEBHOOK_PATH, measured by the exporter',
  },
  events: {
    name: `${SELF}events_total`,
    kind: 'counter',
    unit: '{event}',
    help: 'CloudEvents received in signed requests, by type and outcome (accepted, duplicate, invalid, unknown_type).',
    labels: ['type', 'outcome'],
    preset: { type: TYPE_LABEL_VALUES, outcome: EVENT_OUTCOMES },
    source: 'CloudEvent `type`; types outside the known set count as `other`',
  },
  signatureFailures: {
    name: `${SELF}signature_failures_total`,
    kind: 'counter',
    unit: '{request}',
    help: 'Webhook requests rejected by X-Twilio-Signature or Basic auth checks, by reason.',
    labels: ['reason'],
    preset: { reason: SIGNATURE_FAILURE_REASONS },
    source: 'X-Twilio-Signature, bodySHA256, Authorization headers',
  },
  deadLetters: {
    name: `${SELF}dead_letters_total`,
    kind: 'counter',
    unit: '{event}',
    help: 'Events written to the dead-letter file, by reason (envelope: not a usable CloudEvent; schema: data failed its schema).',
    labels: ['reason'],
    preset: { reason: ['envelope', 'schema'] },
    source: 'DATA_DIR/dead-letter.jsonl',
  },
  unknownSchemaVersions: {
    name: `${SELF}unknown_schema_versions_total`,
    kind: 'counter',
    unit: '{event}',
    help: 'Events whose dataschema version is not one this exporter was built against (parsed tolerantly anyway).',
    labels: ['type'],
    preset: { type: TYPE_LABEL_VALUES },
    source: 'CloudEvent `dataschema` (…/VoiceInsights.CallMetric/2)',
  },
  dedupIds: {
    name: `${SELF}dedup_ids`,
    kind: 'gauge',
    unit: '{id}',
    help: 'CloudEvent ids currently remembered for duplicate detection.',
    labels: [],
    source: 'dedup store',
  },
  eventLag: {
    name: `${SELF}event_lag_seconds`,
    kind: 'histogram',
    unit: 's',
    help: 'Receive time minus event time (data.timestamp, else CloudEvent time) of accepted events, by type.',
    labels: ['type'],
    buckets: LAG_SECONDS,
    source: 'call-event / call-metrics `timestamp`, CloudEvent `time`',
  },
  labelOverflow: {
    name: `${SELF}label_overflow_total`,
    kind: 'counter',
    unit: '{sample}',
    help: 'Recordings whose label value was folded into `other` (cardinality limit reached, or the value looked like a SID, phone number or IP), by metric and label.',
    labels: ['metric', 'label'],
    preset: LIMITED_LABELS,
    source: 'METRIC_LABEL_MAX_VALUES',
  },
  exportFailures: {
    name: `${SELF}export_failures_total`,
    kind: 'counter',
    unit: '{export}',
    help: 'OTLP exports the backend did not accept, by signal (metrics, traces).',
    labels: ['signal'],
    preset: { signal: ['metrics', 'traces'] },
    source: 'OTLP/HTTP exporter results',
  },
  callsInFlight: {
    name: `${SELF}calls_in_flight`,
    kind: 'gauge',
    unit: '{call}',
    help: 'Calls and conferences whose trace is pending (waiting for the complete summary or idle expiry).',
    labels: [],
    source: 'per-call state store',
  },
  tracesFinalised: {
    name: `${SELF}traces_finalised_total`,
    kind: 'counter',
    unit: '{trace}',
    help: 'Call traces finalised, by reason (complete: complete summary; idle: CALL_IDLE_TIMEOUT_SECONDS without data; capacity: MAX_PENDING_CALLS reached).',
    labels: ['reason'],
    preset: { reason: ['complete', 'idle', 'capacity'] },
    source: 'call trace assembler',
  },
  conferencesFinalised: {
    name: `${SELF}conferences_finalised_total`,
    kind: 'counter',
    unit: '{trace}',
    help: 'Conference traces finalised, by reason (complete: complete conference summary and every participant counted in it; idle: CALL_IDLE_TIMEOUT_SECONDS without data; capacity: MAX_PENDING_CALLS reached).',
    labels: ['reason'],
    preset: { reason: ['complete', 'idle', 'capacity'] },
    source: 'conference trace assembler',
  },
  lateData: {
    name: `${SELF}late_data_total`,
    kind: 'counter',
    unit: '{event}',
    help: 'Data for calls and conferences already finalised, by kind and outcome (late_span: exported as a late child span; ignored: a repeat, or a metrics sample). conference-link: a participant summary naming a call whose trace went out already.',
    labels: ['kind', 'outcome'],
    preset: {
      kind: [
        'call-event',
        'call-summary',
        'call-metric',
        'conference-summary',
        'participant-summary',
        'conference-link',
      ],
      outcome: ['late_span', 'ignored'],
    },
    source: 'call trace assembler',
  },
  traceQueue: {
    name: `${SELF}trace_export_queue_spans`,
    kind: 'gauge',
    unit: '{span}',
    help: 'Spans waiting in the durable outbox for OTLP export (at TRACE_QUEUE_MAX_SPANS the webhook answers 503).',
    labels: [],
    source: 'span outbox (TRACE_QUEUE_MAX_SPANS)',
  },
  spansDropped: {
    name: `${SELF}spans_dropped_total`,
    kind: 'counter',
    unit: '{span}',
    help: 'Spans that left the outbox unexported, by reason (gave_up: export failed for TRACE_EXPORT_GIVE_UP_SECONDS; rejected: the backend refused the entry outright, even alone).',
    labels: ['reason'],
    preset: { reason: ['gave_up', 'rejected'] },
    source: 'span outbox shipper',
  },
  ready: {
    name: `${SELF}ready`,
    kind: 'gauge',
    unit: '1',
    help: '1 when the webhook accepts events, 0 when it answers 503 (see /readyz for why).',
    labels: [],
    source: 'readiness checks',
  },
} as const satisfies Record<string, MetricDef>;

const SAMPLE_LABELS = ['edge', 'stream_direction', 'codec', 'region'] as const;
const CALL_LABELS = ['call_type', 'call_direction'] as const;
const EDGE_VALUES = ['carrier_edge', 'sip_edge', 'client_edge', 'sdk_edge', 'unknown'] as const;
/** Annotation call scores (5: excellent, 4: good, 3: fair, 2: poor, 1: bad). */
export const CALL_SCORES = ['1', '2', '3', '4', '5'] as const;
export const VERIFIED_VALUES = ['true', 'false', 'unknown'] as const;

export const CALL_METRICS = {
  intervalJitter: {
    name: 'twilio_voice_interval_jitter_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Jitter per metrics interval (SDK 1 s samples; gateway edges: derived from consecutive cumulative snapshots, see README).',
    labels: SAMPLE_LABELS,
    buckets: JITTER_SECONDS,
    source:
      'call-metrics `<edge>.interval.jitter.value` (ms, else avg); gateway edges `<edge>.cumulative.jitter.avg` / `.max`',
  },
  intervalRtt: {
    name: 'twilio_voice_interval_rtt_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Round-trip time per metrics interval (SDK only).',
    labels: SAMPLE_LABELS,
    buckets: RTT_SECONDS,
    source: 'call-metrics.sdk `sdk_edge.interval.rtt.value` (ms)',
  },
  intervalMos: {
    name: 'twilio_voice_interval_mos',
    kind: 'histogram',
    unit: '1',
    help: 'Mean opinion score per metrics interval (SDK only), 1 to ~4.5.',
    labels: SAMPLE_LABELS,
    buckets: MOS_BANDS,
    source: 'call-metrics.sdk `sdk_edge.interval.mos.value`',
  },
  intervalLoss: {
    name: 'twilio_voice_interval_packet_loss_ratio',
    kind: 'histogram',
    unit: '1',
    help: 'Packet loss per metrics interval, 0..1 (Twilio sends a percentage; derived from packets_lost / (packets_received + packets_lost) when only counts are sent).',
    labels: SAMPLE_LABELS,
    buckets: LOSS_RATIO,
    source: 'call-metrics `<edge>.interval.packets_loss_percentage` / 100',
  },
  intervalAudioLevel: {
    name: 'twilio_voice_interval_audio_level',
    kind: 'histogram',
    unit: '1',
    help: 'SDK audio level per interval on the raw 0..32767 scale, by channel (in: microphone, out: speaker).',
    labels: [...SAMPLE_LABELS, 'channel'],
    buckets: AUDIO_LEVEL,
    source: 'call-metrics.sdk `sdk_edge.interval.audio_in.value` / `audio_out.value`',
  },
  packetsReceived: {
    name: 'twilio_voice_packets_received_total',
    kind: 'counter',
    unit: '{packet}',
    help: 'Packets received, summed from interval values (a gateway sample without them: the difference of consecutive cumulative totals, never the totals).',
    labels: SAMPLE_LABELS,
    source: 'call-metrics `<edge>.interval.packets_received`',
  },
  packetsLost: {
    name: 'twilio_voice_packets_lost_total',
    kind: 'counter',
    unit: '{packet}',
    help: 'Packets lost, summed from interval values (a gateway sample without them: the difference of consecutive cumulative totals, never the totals).',
    labels: SAMPLE_LABELS,
    source: 'call-metrics `<edge>.interval.packets_lost`',
  },
  packetsSent: {
    name: 'twilio_voice_packets_sent_total',
    kind: 'counter',
    unit: '{packet}',
    help: 'Packets sent, summed from interval values (a gateway sample without them: the difference of consecutive cumulative totals, never the totals).',
    labels: SAMPLE_LABELS,
    source: 'call-metrics `<edge>.interval.packets_sent`',
  },
  activeCalls: {
    name: 'twilio_voice_active_calls',
    kind: 'gauge',
    unit: '{call}',
    help: 'Calls from which a metrics sample or call event was received in the last 60 s, by edge.',
    labels: ['edge'],
    preset: { edge: EDGE_VALUES },
    source: 'receive time of call-metrics and call-event events',
  },
  callEvents: {
    name: 'twilio_voice_call_events_total',
    kind: 'counter',
    unit: '{event}',
    help: 'Call events by source (gateway, sdk), group, name and level.',
    labels: ['source', 'group', 'name', 'level'],
    source: 'call-event `group`, `name`, `level`',
  },
  calls: {
    name: 'twilio_voice_calls_total',
    kind: 'counter',
    unit: '{call}',
    help: 'Calls finalised (once per call, never per partial summary), by type, direction, final state and who hung up.',
    labels: [...CALL_LABELS, 'call_state', 'disconnected_by'],
    source: 'call-summary `call_type`, `properties.direction`, `call_state`, `properties.disconnected_by`',
  },
  callQualityTags: {
    name: 'twilio_voice_call_quality_tags_total',
    kind: 'counter',
    unit: '{call}',
    help: "Finalised calls carrying each of Twilio's quality tags (silence, high_jitter, high_packet_loss, high_latency, high_pdd, low_mos, ice_failure, others).",
    labels: ['call_type', 'tag'],
    source: 'call-summary `tags`',
  },
  callDuration: {
    name: 'twilio_voice_call_duration_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Call duration from initiation to end, once per call.',
    labels: CALL_LABELS,
    buckets: CALL_DURATION_SECONDS,
    source: 'call-summary `duration` (s)',
  },
  callConnectDuration: {
    name: 'twilio_voice_call_connect_duration_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Connected time from answer to end, once per answered call.',
    labels: CALL_LABELS,
    buckets: CALL_DURATION_SECONDS,
    source: 'call-summary `connect_duration` (s)',
  },
  callPostDialDelay: {
    name: 'twilio_voice_call_post_dial_delay_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Post-dial delay (INVITE to first ringing), once per call.',
    labels: CALL_LABELS,
    buckets: PDD_SECONDS,
    source: 'call-summary `properties.pdd_ms` (ms)',
  },
  callQueueTime: {
    name: 'twilio_voice_call_queue_time_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Time between call creation and start (CPS queueing), once per call.',
    labels: CALL_LABELS,
    buckets: QUEUE_SECONDS,
    source: 'call-summary `properties.queue_time` (ms)',
  },
  callMos: {
    name: 'twilio_voice_call_mos',
    kind: 'histogram',
    unit: '1',
    help: 'Per-call average MOS on the SDK edge, once per call.',
    labels: CALL_LABELS,
    buckets: MOS_BANDS,
    source: 'call-summary `sdk_edge.metrics.inbound.mos.avg` (else outbound)',
  },
  callJitter: {
    name: 'twilio_voice_call_jitter_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Per-call average jitter, once per call and edge stream.',
    labels: [...CALL_LABELS, 'edge', 'stream_direction'],
    buckets: JITTER_SECONDS,
    source: 'call-summary `<edge>.metrics.<inbound|outbound>.jitter.avg` (ms)',
  },
  callPacketLoss: {
    name: 'twilio_voice_call_packet_loss_ratio',
    kind: 'histogram',
    unit: '1',
    help: 'Per-call packet loss, 0..1, once per call and edge stream.',
    labels: [...CALL_LABELS, 'edge', 'stream_direction'],
    buckets: LOSS_RATIO,
    source: 'call-summary `<edge>.metrics.<inbound|outbound>.packets_loss_percentage` / 100',
  },
  callAnnotationScores: {
    name: 'twilio_voice_call_annotation_scores_total',
    kind: 'counter',
    unit: '{call}',
    help: 'Finalised calls annotated with a call score, by score (1 bad .. 5 excellent), once per call.',
    labels: ['call_score'],
    preset: { call_score: CALL_SCORES },
    source: 'call-summary `annotation.call_score` (1-5; Call Annotation API)',
  },
  callVerifiedCaller: {
    name: 'twilio_voice_call_verified_caller_total',
    kind: 'counter',
    unit: '{call}',
    help: 'Finalised calls by STIR/SHAKEN caller verification (true, false, unknown: no trust data), once per call.',
    labels: ['verified'],
    preset: { verified: VERIFIED_VALUES },
    source: 'call-summary `trust.verified_caller.verified`',
  },
} as const satisfies Record<string, MetricDef>;

// Conference Insights (reference section 7; Twilio's value lists:
// https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-summary-resource and
// .../conference-participant-summary-resource). Every label takes a documented value, `unknown` when
// Twilio sent none, or `other` (counted in label_overflow_total), so each label set stays fixed.
export const CONFERENCE_STATUSES = ['in_progress', 'not_started', 'completed', 'summary_timeout'] as const;
export const CONFERENCE_END_REASONS = [
  'last_participant_left',
  'conference_ended_via_api',
  'participant_with_end_conference_on_exit_left',
  'last_participant_kicked',
  'participant_with_end_conference_on_exit_kicked',
] as const;
export const CONFERENCE_TAGS = [
  'invalid_requested_region',
  'duplicate_identity',
  'start_failure',
  'region_configuration_issues',
  'quality_warnings',
  'participant_behavior_issues',
  'high_packet_loss',
  'high_jitter',
  'high_latency',
  'low_mos',
  'detected_silence',
  'no_concurrent_participants',
] as const;
export const PARTICIPANT_CALL_TYPES = ['carrier', 'client', 'sip'] as const;
export const PARTICIPANT_DIRECTIONS = ['inbound', 'outbound'] as const;
/** From is_coach and is_moderator; a coach (who may also be a moderator) counts as coach. */
export const PARTICIPANT_ROLES = ['coach', 'moderator', 'participant'] as const;
export const PARTICIPANT_COUNT_KINDS = ['max_concurrent', 'unique'] as const;

const PARTICIPANT_STREAM = ['call_type', 'stream_direction'] as const;

export const CONFERENCE_METRICS = {
  conferences: {
    name: 'twilio_voice_conferences_total',
    kind: 'counter',
    unit: '{conference}',
    help: 'Conferences finalised (once per conference, never per partial summary), by status and end reason; a conference finalised idle without any summary counts as status and end_reason unknown.',
    labels: ['status', 'end_reason'],
    source: 'conference-summary `status`, `end_reason`',
  },
  conferenceTags: {
    name: 'twilio_voice_conference_tags_total',
    kind: 'counter',
    unit: '{conference}',
    help: "Finalised conferences carrying each of Twilio's conference tags (start_failure, quality_warnings, high_jitter, high_packet_loss, low_mos, ...; others as other), once per conference.",
    labels: ['tag'],
    preset: { tag: CONFERENCE_TAGS },
    source: 'conference-summary `tags`',
  },
  conferenceDuration: {
    name: 'twilio_voice_conference_duration_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Conference duration from creation to end, once per conference.',
    labels: [],
    buckets: CALL_DURATION_SECONDS,
    source: 'conference-summary `duration_seconds`',
  },
  conferenceParticipants: {
    name: 'twilio_voice_conference_participants',
    kind: 'histogram',
    unit: '{participant}',
    help: 'Participants per conference, once per conference, by kind (max_concurrent: most at once; unique: distinct participants over its life).',
    labels: ['kind'],
    buckets: PARTICIPANT_COUNTS,
    source: 'conference-summary `max_concurrent_participants`, `unique_participants`',
  },
  participants: {
    name: 'twilio_voice_conference_participants_total',
    kind: 'counter',
    unit: '{participant}',
    help: 'Conference participants (legs) summarised, once per participant, by call type, direction and role (coach, moderator, participant).',
    labels: ['call_type', 'call_direction', 'role'],
    source: 'participant summary `call_type`, `call_direction`, `is_coach`, `is_moderator`',
  },
  participantDuration: {
    name: 'twilio_voice_conference_participant_duration_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Time a participant spent in the conference (join to leave), once per participant.',
    labels: ['call_type'],
    buckets: CALL_DURATION_SECONDS,
    source: 'participant summary `duration_seconds`',
  },
  participantQueueTime: {
    name: 'twilio_voice_conference_participant_queue_time_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Time an outbound participant added through the Participants API waited in the queue before being dialled, once per participant (Twilio gives no join-to-first-audio time).',
    labels: ['call_type'],
    buckets: QUEUE_SECONDS,
    source: 'participant summary `outbound_time_in_queue` (ms)',
  },
  participantMos: {
    name: 'twilio_voice_conference_participant_mos',
    kind: 'histogram',
    unit: '1',
    help: "A participant's MOS per stream direction, once per participant.",
    labels: PARTICIPANT_STREAM,
    buckets: MOS_BANDS,
    source: 'participant summary `metrics.<inbound|outbound>.mos`',
  },
  participantJitter: {
    name: 'twilio_voice_conference_participant_jitter_seconds',
    kind: 'histogram',
    unit: 's',
    help: "A participant's average jitter per stream direction, once per participant.",
    labels: PARTICIPANT_STREAM,
    buckets: JITTER_SECONDS,
    source: 'participant summary `metrics.<inbound|outbound>.jitter.avg` (ms)',
  },
  participantPacketLoss: {
    name: 'twilio_voice_conference_participant_packet_loss_ratio',
    kind: 'histogram',
    unit: '1',
    help: "A participant's packet loss per stream direction, 0..1, once per participant.",
    labels: PARTICIPANT_STREAM,
    buckets: LOSS_RATIO,
    source: 'participant summary `metrics.<inbound|outbound>.packet_loss_percentage` / 100',
  },
} as const satisfies Record<string, MetricDef>;

export const CATALOG: readonly MetricDef[] = [
  ...Object.values(CALL_METRICS),
  ...Object.values(CONFERENCE_METRICS),
  ...Object.values(SELF_METRICS),
];
