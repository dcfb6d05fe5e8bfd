// Shared zod building blocks for the Twilio event families. Every block is tolerant in the ways
// Twilio's payloads need (reference §8: nulls, "" defaults, `unknown_*` sentinels, ints where floats
// are expected, defensive numeric-string parsing) and strict about everything else, so a payload
// that is really broken is reported as a FieldIssue instead of becoming a bogus value.
// Reference: /work/shared/reference/twilio-call-insights.md §1.1, §2-4, §8.
import { z } from 'zod';
import type { FieldIssue } from './family.js';
import { MEDIA_EDGES } from './types.js';
import type { EventSource, MediaEdge, Stat } from './types.js';

/** Longest identifier-like string we accept (SIDs are 34 chars; event group/name are short). */
export const MAX_ID_LENGTH = 256;

function describeType(value: unknown): string {
  // Only the JS type goes into messages, never the value itself (messages end up in logs).
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'Infinity';
  return typeof value;
}

// Plain decimal notation only: Number() would also accept "0x1f", "0b1", " " and "Infinity".
// `\d+(?:\.\d*)?` rather than `\d+\.?\d*`: the latter backtracks quadratically on a long digit run
// followed by a non-digit, and one signed 1 MiB body could stall the event loop for minutes.
const NUMERIC_STRING = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Longer than any number Twilio sends; longer strings are refused before any pattern runs. */
const MAX_NUMERIC_STRING = 64;

interface NumberRules {
  /** Inclusive bounds checked on the value as Twilio sent it (before scaling). */
  min?: number;
  max?: number;
  /** Divide by 10^scaleDown (3 for ms -> s, 2 for % -> ratio), as a decimal shift: see shiftDecimal. */
  scaleDown?: number;
}

/**
 * n / 10^digits computed on the decimal representation, so 2.1 ms -> 0.0021 s exactly as written
 * (plain 2.1 / 1000 gives 0.0021000000000000003). toExponential() yields the shortest round-trip digits.
 */
export function shiftDecimal(n: number, digits: number): number {
  if (digits === 0 || n === 0) return n;
  const [mantissa, exponent = '0'] = n.toExponential().split('e');
  return Number(`${mantissa}e${Number(exponent) - digits}`);
}

/**
 * A number as Twilio may send it: a JSON number, or (defensively, §8.8) a numeric string.
 * null, absent and "" mean "no value" -> undefined. NaN/Infinity, other strings and other types are issues.
 */
export function numberField(rules: NumberRules = {}) {
  return z
    .unknown()
    .transform((value, ctx): number | undefined => {
      if (value === null || value === undefined) return undefined;
      let n: number;
      if (typeof value === 'number') {
        n = value;
      } else if (typeof value === 'string') {
        const trimmed = value.trim();
        if (trimmed === '') return undefined;
        if (trimmed.length > MAX_NUMERIC_STRING || !NUMERIC_STRING.test(trimmed)) {
          ctx.addIssue({ code: 'custom', message: 'Invalid input: expected number, received non-numeric string' });
          return z.NEVER;
        }
        n = Number(trimmed);
      } else {
        ctx.addIssue({ code: 'custom', message: `Invalid input: expected number, received ${describeType(value)}` });
        return z.NEVER;
      }
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: 'Invalid input: expected finite number' });
        return z.NEVER;
      }
      if (rules.min !== undefined && n < rules.min) {
        ctx.addIssue({ code: 'custom', message: `Too small: expected number >= ${rules.min}` });
        return z.NEVER;
      }
      if (rules.max !== undefined && n > rules.max) {
        ctx.addIssue({ code: 'custom', message: `Too big: expected number <= ${rules.max}` });
        return z.NEVER;
      }
      return rules.scaleDown === undefined ? n : shiftDecimal(n, rules.scaleDown);
    })
    .optional();
}

/** Any finite number. */
export const num = numberField();
/** Packet and byte counts: never negative. */
export const count = numberField({ min: 0 });
/** Milliseconds -> seconds (jitter, rtt, latency, pdd_ms, queue_time; §8.7). */
export const msToSeconds = numberField({ min: 0, scaleDown: 3 });
/** packets_loss_percentage is 0..100 (§3, §8.7) -> ratio 0..1. */
export const percentToRatio = numberField({ min: 0, max: 100, scaleDown: 2 });

// Twilio's schema defaults for "not known" (§1.1, §8.5): unknown_edge, unknown_codec_name,
// unknown_realm, unknown_disconnected_by, unknown_connectivity_issue, ... Any `unknown_*` is a sentinel.
const SENTINEL = /^unknown_[a-z0-9_]*$/i;

/** True when a string carries no information: "", whitespace, or an `unknown_*` sentinel. */
export function isNoValue(value: string): boolean {
  const trimmed = value.trim();
  return trimmed === '' || SENTINEL.test(trimmed);
}

/** Optional string: null, absent, "" and `unknown_*` sentinels -> undefined (§8.5). Non-strings are issues. */
export const optString = z
  .string()
  .nullish()
  .transform((value): string | undefined => (value == null || isNoValue(value) ? undefined : value.trim()));

/** An optional identifier (a sid that becomes a store key or a span attribute): as optString, capped like requiredId. */
export const optId = z
  .string()
  .max(MAX_ID_LENGTH)
  .nullish()
  .transform((value): string | undefined => (value == null || isNoValue(value) ? undefined : value.trim()));

/** As optString, also accepting a number (rendered as a string): e.g. SDK browser.major, a string in the schema (§2) that clients may send as a number. */
export const optStringOrNumber = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((value): string | undefined => {
    if (value == null) return undefined;
    const text = String(value);
    return isNoValue(text) ? undefined : text.trim();
  });

/** As optString, lowercased (codec names, enum-like values whose case Twilio does not guarantee). */
export const optLowerString = optString.transform((value) => value?.toLowerCase());

/** A required identifier-like string (call_sid, group, name): non-blank, capped length. No SID regex: doc placeholders are 33 chars (§8.3). */
export const requiredId = z
  .string()
  .max(MAX_ID_LENGTH)
  .refine((value) => value.trim() !== '', { message: 'Invalid input: expected non-empty string' })
  .transform((value) => value.trim());

/** Tolerant boolean: true/false or "true"/"false"; null and absent -> undefined. */
export const optBoolean = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .nullish()
  .transform((value): boolean | undefined => (value == null ? undefined : value === true || value === 'true'));

// ISO-8601 as Twilio writes it ("2021-05-24T14:15:22Z", "2020-07-23T22:56:33.000Z"), also accepting
// offsets, a space separator and date-only values. Parsed by hand because Date.parse accepts many
// non-ISO formats and reads zone-less date-times as *local* time, which would make conversion impure.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** ISO-8601 string -> epoch ms, or undefined if it is not a valid ISO-8601 instant. Zone-less values are UTC (Twilio sends UTC). */
export function parseIsoTimestamp(text: string): number | undefined {
  const m = ISO_8601.exec(text.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', , sign, oh = '0', om = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const millis = Number(frac.slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  if (Number(oh) > 23 || Number(om) > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear rather than Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined; // 2021-02-30 rolled over
  date.setUTCHours(hour, minute, second, millis);
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return date.getTime() - offsetMinutes * 60_000;
}

/** Optional ISO-8601 timestamp -> epoch ms; null/""/absent -> undefined; unparsable -> issue. */
export const isoTimestamp = z
  .string()
  .nullish()
  .transform((value, ctx): number | undefined => {
    if (value == null || value.trim() === '') return undefined;
    const ms = parseIsoTimestamp(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'Invalid input: expected ISO-8601 timestamp' });
      return z.NEVER;
    }
    return ms;
  });

/**
 * Twilio `{min, max, avg, value}` statistics (§3, §8.6), each sub-field optional, scaled down by
 * 10^scaleDown (3 for ms -> s, 0 for MOS and audio levels). Only present sub-fields are set; an
 * object with none of them (or null) -> undefined.
 */
export function statField(scaleDown = 0) {
  const part = numberField({ scaleDown });
  return z
    .object({ min: part, max: part, avg: part, value: part })
    .nullish()
    .transform((raw): Stat | undefined => {
      if (raw == null) return undefined;
      const stat = compact<Stat>({ min: raw.min, max: raw.max, avg: raw.avg, value: raw.value });
      return Object.keys(stat).length === 0 ? undefined : stat;
    });
}

/** Drops keys whose value is undefined, for types whose properties are optional (`Stat`, `MetricValues`). */
export function compact<T extends object>(value: T): T {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out as T;
}

/** Copies the defined entries of `entries` into a fresh record (for CallEventRecord.details / sensitive). */
export function definedEntries<V>(entries: Record<string, V | undefined>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}

const MAX_ISSUES = 20;

/**
 * zod error -> FieldIssue[] with dotted paths ("data.sdk_edge.interval.jitter.value"). Messages are
 * zod's own or ours; none of them quote the received value. The few zod codes whose default message
 * could echo payload content (unrecognized/invalid keys) get a generic message instead.
 */
export function toFieldIssues(error: z.ZodError, prefix = 'data'): FieldIssue[] {
  const issues = error.issues.slice(0, MAX_ISSUES).map((issue): FieldIssue => {
    const segments = issue.path.map((segment) => (typeof segment === 'symbol' ? '?' : String(segment)));
    const path = [prefix, ...segments].filter((part) => part !== '').join('.');
    const message =
      issue.code === 'unrecognized_keys' || issue.code === 'invalid_key' || issue.code === 'invalid_element'
        ? 'Invalid input: unexpected keys or elements'
        : issue.message;
    return { path: path === '' ? '(root)' : path, message };
  });
  if (error.issues.length > MAX_ISSUES) {
    issues.push({
      path: prefix === '' ? '(root)' : prefix,
      message: `${error.issues.length - MAX_ISSUES} more issues not shown`,
    });
  }
  return issues;
}

export function isMediaEdge(value: string | undefined): value is MediaEdge {
  return value !== undefined && (MEDIA_EDGES as readonly string[]).includes(value);
}

// Twilio edge location names ("ashburn", "ashburn-ix", "sao-paulo"): https://www.twilio.com/docs/global-infrastructure/edge-locations
const EDGE_LOCATION = /^[a-z]+(?:-[a-z]+)*$/;

export interface ResolvedEdge {
  edge: MediaEdge | undefined;
  /** Set when the `edge` field held an edge *location* (the Event Streams example shows "ashburn", §8.10). */
  locationFromEdgeField: string | undefined;
}

/**
 * Which media edge reported (§2, §3, §8.10): the non-null `*_edge` object; if several are non-null,
 * the one the `edge` field names, else the one matching the source (sdk_edge for SDK events, the first
 * gateway edge for gateway events). With no edge object, the `edge` field itself if it is a media edge.
 */
export function resolveEdge(
  edgeField: string | undefined,
  edgeObjects: Readonly<Partial<Record<MediaEdge, unknown>>>,
  source: EventSource,
): ResolvedEdge {
  const field = edgeField?.toLowerCase();
  const named = isMediaEdge(field) ? field : undefined;
  const locationFromEdgeField =
    named === undefined && field !== undefined && EDGE_LOCATION.test(field) ? field : undefined;
  const present = MEDIA_EDGES.filter((edge) => edgeObjects[edge] != null);
  if (present.length === 0) return { edge: named, locationFromEdgeField };
  if (named !== undefined && present.includes(named)) return { edge: named, locationFromEdgeField };
  const bySource = present.find((edge) => (source === 'sdk') === (edge === 'sdk_edge'));
  return { edge: bySource ?? present[0], locationFromEdgeField };
}

/**
 * `schema`, or undefined when the value does not fit it: for the loosely specified parts of a summary
 * (sdk_edge.events, trust, annotation) whose shape differs between schema versions and sources
 * (reference §4.3, §4.6, §4.7). A surprise there loses that part, never the whole summary.
 */
export function lenient<T extends z.ZodType>(schema: T) {
  return z
    .unknown()
    .transform((value): z.output<T> | undefined => {
      const parsed = schema.safeParse(value);
      return parsed.success ? parsed.data : undefined;
    })
    .optional();
}

/** Twilio's own identifiers used as map keys (levels, groups, error codes); anything else is dropped. */
const COUNT_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** At most this many keys per count map: the keys become attribute names. */
const MAX_COUNT_KEYS = 50;

/** `{key: count}` maps of sdk_edge.events; non-identifier keys and non-counts are dropped. */
export const countMap = lenient(z.record(z.string(), z.unknown())).transform((raw): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (Object.keys(out).length >= MAX_COUNT_KEYS) break;
    const n = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;
    if (!COUNT_KEY.test(key) || typeof n !== 'number' || !Number.isInteger(n) || n < 0) continue;
    out[key] = n;
  }
  return out;
});

/** Tags are a flat, open set (§4.5); null -> [], duplicates dropped, first-seen order kept. */
export function toTags(tags: string[] | null | undefined): string[] {
  const seen = new Set<string>();
  for (const tag of tags ?? []) {
    const trimmed = tag.trim();
    if (trimmed !== '') seen.add(trimmed);
  }
  return [...seen];
}

/** A `tags` array (call and conference summaries): strings, null -> []. */
export const tagList = z.array(z.string().max(256)).max(1000).nullish().transform(toTags);
