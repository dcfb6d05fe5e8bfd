// SpanData (plain data from the call stage, as stored in the outbox) -> OTel ReadableSpan for the OTLP
// exporter. Spans are built by hand because their times come from Twilio, long past, and their ids
// are derived from the CallSid (https://opentelemetry.io/docs/specs/otel/trace/sdk/#span-exporter).
import { SpanKind, SpanStatusCode, TraceFlags, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { AttrValue, Attrs, SpanData } from '../calls/span-data.js';
import { VERSION } from '../version.js';

const SCOPE = { name: 'voice-insights-exporter', version: VERSION };

/**
 * OTel's attribute value length limit (https://opentelemetry.io/docs/specs/otel/common/#attribute-limits):
 * a 1 MB SDK error message must not make a span the backend refuses (413) and block the outbox.
 */
export const ATTRIBUTE_VALUE_MAX_CHARS = 4096;

function capValue(v: AttrValue): AttrValue {
  if (typeof v === 'string') return v.length > ATTRIBUTE_VALUE_MAX_CHARS ? v.slice(0, ATTRIBUTE_VALUE_MAX_CHARS) : v;
  if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string'))
    return v.map((x) => capValue(x) as string);
  return v;
}

function capAttributes(attrs: Attrs): Attrs {
  const out: Attrs = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = capValue(v);
  return out;
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

export function toReadableSpan(s: SpanData, resource: Resource): ReadableSpan {
  const context = { traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED };
  const status =
    s.status.code === 'error'
      ? { code: SpanStatusCode.ERROR, ...(s.status.message === undefined ? {} : { message: s.status.message }) }
      : { code: s.status.code === 'ok' ? SpanStatusCode.OK : SpanStatusCode.UNSET };
  return {
    name: s.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => context,
    ...(s.parentSpanId === undefined
      ? {}
      : { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED } }),
    startTime: hrTime(s.startMs),
    endTime: hrTime(s.endMs),
    duration: hrTime(s.endMs - s.startMs),
    status,
    attributes: capAttributes(s.attributes),
    links: (s.links ?? []).map((l) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.SAMPLED },
      attributes: capAttributes(l.attributes),
    })),
    events: s.events.map((e) => ({ name: e.name, time: hrTime(e.timeMs), attributes: capAttributes(e.attributes) })),
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: s.droppedEvents,
    droppedLinksCount: 0,
  };
}
