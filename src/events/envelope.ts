// The CloudEvents envelope around every Twilio Event Streams event (reference §1.2), validated
// tolerantly: only `id` and `type` are required. `datacontenttype` is ignored (generated Twilio
// examples put a timestamp there), `time` may be missing or garbage, and `data` may arrive as a
// JSON-encoded string (reference §8.1, §8.2). A `data` that cannot be decoded is reported on the
// envelope (`dataIssue`) for the family schema to fail: the event is dead-lettered, the delivery kept.
import { z } from 'zod';
import type { Envelope, FieldIssue } from './family.js';
import type { EnvelopeInfo, EventType } from './types.js';
import { MAX_ID_LENGTH, parseIsoTimestamp, toFieldIssues } from './fields.js';

/**
 * Schema versions this exporter was written against (reference §1.1), so that
 * unknown_schema_versions_total counts only news. Others are parsed tolerantly and counted.
 * - CallEvent 3: the current Gateway Call Event page's example and https://events-schemas.twilio.com/VoiceInsights.CallEvent/3; 2 on the SDK events page; 1 in older integrations.
 * - CallMetric 2: the Voice SDK Metrics page and https://events-schemas.twilio.com/VoiceInsights.CallMetric/2.
 * - CallSummary 7: Twilio's event-type pages for the call-summary types today (issue 12; the searchable docs copy did not show it); 1 in the webhook quickstart example,
 *   2 since the Feb 2022 changelog (trust, created_time, queue_time). A subscription pins the version it was created
 *   with, so every version between is one an older sink can still receive.
 * - ConferenceSummary 1 (partial) and 2 (complete), ConferenceParticipantSummary 2: the event-type table of
 *   the Conference Insights pages and https://events-schemas.twilio.com/VoiceInsights.ConferenceParticipantSummary/2
 *   (reference section 7); 1 of the participant summary by the same rule as the call summary.
 */
export const KNOWN_SCHEMA_VERSIONS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  'VoiceInsights.CallEvent': [1, 2, 3],
  'VoiceInsights.CallMetric': [1, 2],
  'VoiceInsights.CallSummary': [1, 2, 3, 4, 5, 6, 7],
  'VoiceInsights.ConferenceSummary': [1, 2],
  'VoiceInsights.ConferenceParticipantSummary': [1, 2],
  'EventStreams.TestSink': [1],
});

/** The schema each event type is published with (reference §1 table). */
export const SCHEMA_NAME_BY_TYPE: Readonly<Record<EventType, string>> = Object.freeze({
  'com.twilio.voice.insights.call-event.gateway': 'VoiceInsights.CallEvent',
  'com.twilio.voice.insights.call-event.sdk': 'VoiceInsights.CallEvent',
  'com.twilio.voice.insights.call-metrics.gateway': 'VoiceInsights.CallMetric',
  'com.twilio.voice.insights.call-metrics.sdk': 'VoiceInsights.CallMetric',
  'com.twilio.voice.insights.call-summary.partial': 'VoiceInsights.CallSummary',
  'com.twilio.voice.insights.call-summary.predicted-complete': 'VoiceInsights.CallSummary',
  'com.twilio.voice.insights.call-summary.complete': 'VoiceInsights.CallSummary',
  'com.twilio.voice.insights.conference-summary.partial': 'VoiceInsights.ConferenceSummary',
  'com.twilio.voice.insights.conference-summary.complete': 'VoiceInsights.ConferenceSummary',
  'com.twilio.voice.insights.conference-participant-summary.complete': 'VoiceInsights.ConferenceParticipantSummary',
  'com.twilio.voice.insights.participant-summary.complete': 'VoiceInsights.ConferenceParticipantSummary',
  'com.twilio.eventstreams.test-event': 'EventStreams.TestSink',
});

/**
 * True when `dataschema` named a schema/version pair listed in KNOWN_SCHEMA_VERSIONS and, for a
 * known event type, the schema is the one that type is published with. Callers log (not reject)
 * unknown versions: subscriptions pin a version, and Twilio adds versions over time (§8.4).
 */
export function isKnownSchemaVersion(info: Pick<EnvelopeInfo, 'type' | 'schemaName' | 'schemaVersion'>): boolean {
  const { schemaName, schemaVersion } = info;
  if (schemaName === undefined || schemaVersion === undefined) return false;
  // Object.hasOwn: schemaName comes from the payload; "constructor" or "__proto__" must not hit Object.prototype.
  if (!Object.hasOwn(KNOWN_SCHEMA_VERSIONS, schemaName)) return false;
  if (Object.hasOwn(SCHEMA_NAME_BY_TYPE, info.type) && SCHEMA_NAME_BY_TYPE[info.type as EventType] !== schemaName)
    return false;
  return KNOWN_SCHEMA_VERSIONS[schemaName]?.includes(schemaVersion) ?? false;
}

// https://events-schemas.twilio.com/VoiceInsights.CallMetric/2 and .../EventStreams.TestSink/1.json (§1.2)
const DATASCHEMA = /^https?:\/\/events-schemas\.twilio\.com\/([A-Za-z0-9_.-]{1,128})(?:\/([^/?#]*))?\/?(?:[?#].*)?$/;
const VERSION = /^(\d{1,6})(?:\.json)?$/;

/** Schema name and version from a `dataschema` URL; undefined parts when absent or not Twilio's URL shape. */
export function parseDataschema(dataschema: string | undefined): {
  schemaName: string | undefined;
  schemaVersion: number | undefined;
} {
  const match = dataschema === undefined ? null : DATASCHEMA.exec(dataschema.trim());
  if (match === null) return { schemaName: undefined, schemaVersion: undefined };
  const version = VERSION.exec(match[2] ?? '');
  return { schemaName: match[1], schemaVersion: version?.[1] === undefined ? undefined : Number(version[1]) };
}

const identifier = z
  .string()
  .max(MAX_ID_LENGTH)
  .refine((value) => value.trim() !== '', { message: 'Invalid input: expected non-empty string' });

/** Tolerant optional string: anything that is not a string is treated as absent (these fields carry no meaning we rely on). */
const looseString = z.unknown().transform((value) => (typeof value === 'string' ? value : undefined));

const envelopeSchema = z.object({
  id: identifier,
  type: identifier,
  specversion: looseString.optional(),
  source: looseString.optional(),
  dataschema: looseString.optional(),
  // Unparsable time is not an error: the data's own timestamp is the better clock anyway (§8.1).
  time: looseString.optional().transform((value) => (value === undefined ? undefined : parseIsoTimestamp(value))),
  // datacontenttype deliberately not declared: ignored whatever it holds (§8.1).
  data: z.unknown().optional(),
});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  // Any realm's Object.prototype (its own prototype is null), not only this one's: a CloudEvent built in
  // another V8 context (a vm sandbox, a worker's structured clone) is still a plain object.
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || (typeof proto === 'object' && Object.getPrototypeOf(proto) === null);
}

type DecodedData = { ok: true; data: unknown } | { ok: false; issue: FieldIssue };

/** `data` as object, or as a JSON string of an object (WHQ/KQ examples, §8.2). Absent or null -> undefined. */
function decodeData(data: unknown): DecodedData {
  if (data === undefined || data === null) return { ok: true, data: undefined };
  if (isPlainObject(data)) return { ok: true, data };
  if (typeof data === 'string') {
    let decoded: unknown;
    try {
      // JSON.parse keeps "__proto__" as an own property (no prototype mutation); zod later strips unknown keys.
      decoded = JSON.parse(data);
    } catch {
      return { ok: false, issue: { path: 'data', message: 'Invalid input: data is a string but not valid JSON' } };
    }
    if (isPlainObject(decoded)) return { ok: true, data: decoded };
    return { ok: false, issue: { path: 'data', message: 'Invalid input: data is a JSON string but not of an object' } };
  }
  return {
    ok: false,
    issue: {
      path: 'data',
      message: `Invalid input: expected object or JSON string, received ${Array.isArray(data) ? 'array' : typeof data}`,
    },
  };
}

export type ParseEnvelopeResult =
  | { ok: true; envelope: Envelope }
  | { ok: false; issues: FieldIssue[]; id: string | undefined; type: string | undefined };

/**
 * One element of the webhook's JSON array -> validated Envelope. On failure, `id`/`type` are
 * returned when they themselves were valid, so the caller can log and dead-letter by them.
 */
export function parseEnvelope(element: unknown): ParseEnvelopeResult {
  if (!isPlainObject(element)) {
    return {
      ok: false,
      issues: [{ path: '(root)', message: 'Invalid input: expected a CloudEvent object' }],
      id: undefined,
      type: undefined,
    };
  }
  const parsed = envelopeSchema.safeParse(element);
  if (!parsed.success) {
    return {
      ok: false,
      issues: toFieldIssues(parsed.error, ''),
      id: validIdentifier(element['id']),
      type: validIdentifier(element['type']),
    };
  }
  const { id, type, dataschema, time } = parsed.data;
  const info: EnvelopeInfo = { id, type, time, ...parseDataschema(dataschema) };
  const decoded = decodeData(parsed.data.data);
  // With a usable id and type this is a CloudEvent: undecodable data is its family schema's failure
  // (dead-lettered under 2xx), never a reason to refuse the whole delivery with a 400 Twilio drops.
  if (!decoded.ok) return { ok: true, envelope: { info, data: undefined, dataIssue: decoded.issue } };
  return { ok: true, envelope: { info, data: decoded.data } };
}

function validIdentifier(value: unknown): string | undefined {
  const parsed = identifier.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
