// Call-trace test support.
//
// 1. `renderSpanTree`: what an OTLP receiver decoded (the real output, never internal objects) as
//    normalised, readable text for golden files: one block per trace, one line per span (children
//    indented under their parent), the span's sorted attributes and its events, all times relative to
//    the root span's start in ms.
// 2. Coherent calls: Twilio fixtures re-targeted to one CallSid and one timeline, so events, metrics
//    and summaries of a test call agree with each other (the fixtures themselves belong to different
//    calls and dates).
import { ACCOUNT_SID, callSid, eventId, gatewayMetric, sdkEvent, sdkMetric } from './events.js';
import { loadFixtureEvents } from './fixtures.js';
import type { AttrValue, Attributes, OtlpSpan } from './otlp-receiver.js';

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

const STATUS_NAMES = ['UNSET', 'OK', 'ERROR'];
const NS_PER_MS = 1_000_000n;

/** A nanosecond offset as signed milliseconds, exact (no float rounding): +1520, -3, +0.5. */
export function relativeMs(ns: bigint, originNs: bigint): string {
  const delta = ns - originNs;
  const sign = delta < 0n ? '-' : '+';
  const abs = delta < 0n ? -delta : delta;
  const whole = abs / NS_PER_MS;
  const frac = abs % NS_PER_MS;
  return frac === 0n ? `${sign}${whole}` : `${sign}${whole}.${frac.toString().padStart(6, '0').replace(/0+$/, '')}`;
}

export function formatValue(v: AttrValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  return `{${formatAttributes(v).join(', ')}}`;
}

/** `key=value`, sorted by key. */
export function formatAttributes(attrs: Attributes): string[] {
  return Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${formatValue(attrs[k] ?? null)}`);
}

function compareSpans(a: OtlpSpan, b: OtlpSpan): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
}

/**
 * Renders every trace among `spans` (sorted by trace id). Per trace: a header with the trace id and
 * the resource's service.name, then its root spans (no parent, or a parent that never arrived, shown
 * as `(orphan of <id>)`) each followed by its subtree. Span line:
 * `<name> trace=<id> start=<ms> end=<ms> status=<code>[ "<message>"]`; under it `| key=value` lines
 * and `| +<ms> <event name> {attrs}` lines (events in the order received), then `| link trace=<id>
 * span=<id> {attrs}` lines (links in the order sent; the linked span id is the only way to name the
 * target). Times are relative to the earliest root span's start. The spans' own ids are left out:
 * they are hashes, and the tree shows parentage.
 */
export function renderSpanTree(spans: readonly OtlpSpan[]): string {
  const lines: string[] = [];
  const traceIds = [...new Set(spans.map((s) => s.traceId))].sort();
  for (const traceId of traceIds) {
    const inTrace = spans.filter((s) => s.traceId === traceId);
    const ids = new Set(inTrace.map((s) => s.spanId));
    const roots = inTrace.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)).sort(compareSpans);
    const origin = roots[0]?.startTimeUnixNano ?? 0n;
    const serviceNames = [...new Set(inTrace.map((s) => formatValue(s.resource['service.name'] ?? null)))].join(' / ');
    lines.push(`trace ${traceId} service.name=${serviceNames} spans=${inTrace.length}`);
    const visit = (span: OtlpSpan, depth: number): void => {
      const pad = '  '.repeat(depth);
      const status = STATUS_NAMES[span.status.code] ?? String(span.status.code);
      const message = span.status.message === undefined ? '' : ` ${JSON.stringify(span.status.message)}`;
      const orphan =
        span.parentSpanId !== undefined && !ids.has(span.parentSpanId) ? ` (orphan of ${span.parentSpanId})` : '';
      lines.push(
        `${pad}${span.name} trace=${span.traceId} start=${relativeMs(span.startTimeUnixNano, origin)} end=${relativeMs(span.endTimeUnixNano, origin)} status=${status}${message}${orphan}`,
      );
      for (const attr of formatAttributes(span.attributes)) lines.push(`${pad}  | ${attr}`);
      for (const e of span.events)
        lines.push(
          `${pad}  | ${relativeMs(e.timeUnixNano, origin)} ${e.name} {${formatAttributes(e.attributes).join(', ')}}`,
        );
      for (const l of span.links)
        lines.push(`${pad}  | link trace=${l.traceId} span=${l.spanId} {${formatAttributes(l.attributes).join(', ')}}`);
      const children = inTrace.filter((c) => c.parentSpanId === span.spanId && c !== span).sort(compareSpans);
      for (const child of children) visit(child, depth + 1);
    };
    for (const root of roots) visit(root, 0);
  }
  return `${lines.join('\n')}\n`;
}

/** JSON of decoded spans (bigints as strings), for searching the whole output for a value. */
export function spansJson(spans: readonly OtlpSpan[]): string {
  return JSON.stringify(spans, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

// ---------------------------------------------------------------------------------------------
// Coherent calls
// ---------------------------------------------------------------------------------------------

type CloudEvent = Record<string, unknown>;

/** The builders' time origin (test/support/events.ts): sdkEvent(..., second) happens at T0 + second. */
export const T0 = Date.parse(sdkEvent('t0-probe', 'probe', 'probe').data.timestamp);

export const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A copy of a fixture's first CloudEvent moved to another call: `data.call_sid`, `data.account_sid`
 * (the builders' ACCOUNT_SID), `source` and a fresh, unique `id`; `data` fields overridden by `data`
 * (a `data` that is a JSON string stays a JSON string).
 */
export function retarget(fixture: string, sid: string, data: Record<string, unknown> = {}, time?: number): CloudEvent {
  const original = loadFixtureEvents(fixture)[0];
  if (original === undefined) throw new Error(`fixture ${fixture} is empty`);
  const ce: CloudEvent = structuredClone(original);
  const rawData = ce['data'];
  const asString = typeof rawData === 'string';
  const parsed: unknown = asString ? JSON.parse(rawData) : rawData;
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`fixture ${fixture}: data is not an object`);
  const newData: Record<string, unknown> = {
    ...(parsed as Record<string, unknown>),
    account_sid: ACCOUNT_SID,
    ...data,
    call_sid: sid,
  };
  ce['data'] = asString ? JSON.stringify(newData) : newData;
  ce['id'] = eventId(sid);
  if (typeof ce['source'] === 'string') ce['source'] = ce['source'].replace(/CA[0-9a-fA-F]{32}/, sid);
  if (time !== undefined) ce['time'] = iso(time);
  return ce;
}

export interface SummaryOptions {
  processingVersion?: number;
  /** epoch ms */
  start?: number;
  end?: number;
}

/** A summary fixture for `sid` with its own processing_version and start/end times. */
export function summaryFor(fixture: string, sid: string, opts: SummaryOptions = {}): CloudEvent {
  const data: Record<string, unknown> = {};
  if (opts.processingVersion !== undefined) data['processing_version'] = opts.processingVersion;
  if (opts.start !== undefined) {
    data['start_time'] = iso(opts.start);
    data['created_time'] = iso(opts.start);
  }
  if (opts.end !== undefined) data['end_time'] = iso(opts.end);
  return retarget(fixture, sid, data, opts.end === undefined ? undefined : opts.end + 30 * 60_000);
}

/** A gateway call event (shape of call-events/gateway-call-connected.json) at `at`. */
export function gatewayEvent(
  sid: string,
  name: string,
  at: number,
  opts: { group?: string; level?: string } = {},
): CloudEvent {
  return retarget(
    'call-events/gateway-call-connected.json',
    sid,
    { timestamp: iso(at), group: opts.group ?? 'call', name, level: opts.level ?? 'INFO' },
    at + 60_000,
  );
}

export interface ExpectedEvent {
  name: string;
  timeMs: number;
}

export interface ScriptedCall {
  name: string;
  sid: string;
  /** Webhook bodies in the order Twilio delivers them (out of timestamp order on purpose). */
  batches: CloudEvent[][];
  /** The call events (not metrics, not summaries), in timestamp order. */
  events: ExpectedEvent[];
  start: number;
  end: number;
}

/** Values of the carrier-call fixture and the SDK builders that are PII, redacted by default. */
export const CARRIER_CALL_PII = [
  '+14155550101', // caller
  '14155550101',
  '+13035550187', // callee
  '13035550187',
  '54.172.60.3', // Twilio media IP
  '54.172.60.1',
  '203.0.113.24', // external media IP
  '203.0.113.20',
  '6f1c7e0a3b2d4c58a9e1f0b2c3d4e5f6', // SIP Call-ID
  '192.0.2.45', // SDK client IP
  'agent_jdoe', // SDK client name
  'San Francisco', // caller city
];

/**
 * A carrier call answered after 8 s and ended after 150 s (the durations of the carrier-call fixtures),
 * with gateway and SDK call events, gateway and SDK metrics samples, a partial summary (v2) and the
 * complete one (v4), delivered in four bodies with events out of order.
 */
export function carrierCall(name: string): ScriptedCall {
  const sid = callSid(name);
  const start = T0;
  const end = T0 + 150_000;
  const ringing = gatewayEvent(sid, 'call.ringing', T0 + 1_520);
  const connected = gatewayEvent(sid, 'call.connected', T0 + 8_000);
  const completed = gatewayEvent(sid, 'call.completed', T0 + 150_000);
  const sdkAccepted = sdkEvent(name, 'connection', 'accepted-by-remote', 'INFO', 8.25);
  const jitterRaised = sdkEvent(name, 'network-quality-warning-raised', 'high-jitter', 'WARNING', 61);
  const jitterCleared = sdkEvent(name, 'network-quality-warning-cleared', 'high-jitter', 'INFO', 75.5);
  const disconnected = sdkEvent(name, 'connection', 'disconnected-by-remote', 'INFO', 149.9);
  const metrics = [
    sdkMetric(name, { jitter: 4, rtt: 80, mos: 4.3, packets_received: 50 }, { second: 10 }),
    sdkMetric(name, { jitter: 41, rtt: 85, mos: 3.9, packets_received: 50 }, { second: 61 }),
    gatewayMetric(name, 'carrier_edge', 'inbound', { packets_received: 500, packets_lost: 1 }, { tick: 2 }),
  ];
  return {
    name,
    sid,
    start,
    end,
    batches: [
      [jitterRaised, connected, ...metrics, ringing],
      [summaryFor('call-summary/partial-processing-version-2.json', sid, { processingVersion: 2, start, end })],
      [disconnected, completed, jitterCleared, sdkAccepted],
      [summaryFor('call-summary/complete-carrier-call.json', sid, { processingVersion: 4, start, end })],
    ],
    events: [
      { name: 'call.ringing', timeMs: T0 + 1_520 },
      { name: 'call.connected', timeMs: T0 + 8_000 },
      { name: 'connection.accepted-by-remote', timeMs: T0 + 8_250 },
      { name: 'network-quality-warning-raised.high-jitter', timeMs: T0 + 61_000 },
      { name: 'network-quality-warning-cleared.high-jitter', timeMs: T0 + 75_500 },
      { name: 'connection.disconnected-by-remote', timeMs: T0 + 149_900 },
      { name: 'call.completed', timeMs: T0 + 150_000 },
    ],
  };
}
