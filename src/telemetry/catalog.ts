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
  /** Fixed label value sets exposed at 0 from start, so alerts and dashboards work before the first failure. */
  readonly preset?: Readonly<Record<string, readonly string[]>>;
  /** Where the value comes from, for the README. */
  readonly source: string;
}

/** Label values of a metric, typed by its catalog row. */
export type LabelsOf<D extends MetricDef> = { [K in D['labels'][number]]: string };

/** Status codes the webhook can answer (DESIGN section 3). */
export const WEBHOOK_CODES = ['200', '400', '401', '403', '404', '405', '413', '415', '500', '503'] as const;
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

const SELF = 'voice_insights_exporter_';
/** Request latency, seconds: Twilio waits at most 5 s for an answer (reference section 5). */
const REQUEST_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const SELF_METRICS = {
  webhookRequests: {
    name: `${SELF}webhook_requests_total`,
    kind: 'counter',
    unit: '{request}',
    help: 'Webhook requests answered, by HTTP status code.',
    labels: ['code'],
    preset: { code: WEBHOOK_CODES },
    source: 'every POST to WEBHOOK_PATH (and other paths on the webhook port)',
  },
  webhookDuration: {
    name: `${SELF}webhook_request_duration_seconds`,
    kind: 'histogram',
    unit: 's',
    help: 'Time from request start to answer on the webhook port, by HTTP status code.',
    labels: ['code'],
    buckets: REQUEST_SECONDS,
    source: 'webhook port, measured by the exporter',
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
  dedupEarlyEvictions: {
    name: `${SELF}dedup_early_evictions_total`,
    kind: 'counter',
    unit: '{id}',
    help: 'Ids forgotten before DEDUP_TTL_SECONDS because DEDUP_MAX_ENTRIES was reached (a duplicate could then pass).',
    labels: [],
    source: 'dedup store',
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

export const CATALOG: readonly MetricDef[] = [...Object.values(SELF_METRICS)];
