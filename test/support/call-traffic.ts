// Realistic Twilio calls for the durability tests, from the simulator's seeded generator
// (src/sim/call-plan.ts, src/sim/cloudevents.ts), and an audit of what an OTLP receiver got for them.
//
// A span event does not carry its CloudEvent id, so each call event is made identifiable on the spans
// by its timestamp: within a call, timestamps are made unique (a collision moves the later event by
// 1 ms), and a span event is matched to the call event by (trace id, time in ns).
import { planCall } from '../../src/sim/call-plan.js';
import { callCloudEvents, type CloudEvent } from '../../src/sim/cloudevents.js';
import type { AttrValue, OtlpSpan } from './otlp-receiver.js';

export type { CloudEvent } from '../../src/sim/cloudevents.js';

export interface SimCall {
  index: number;
  callSid: string;
  /** The CallSid's 32 hex digits, lowercased: the call's trace id. */
  traceId: string;
  /** Call events (gateway and SDK), in time order, each with a unique timestamp within the call. */
  callEvents: CloudEvent[];
  /** The first few metrics samples (no span events; they only keep the call active). */
  metrics: CloudEvent[];
  /** Partial and predicted-complete summaries, in processing order. */
  partials: CloudEvent[];
  complete: CloudEvent;
  /** The span-event identity of each call event: CloudEvent id -> timestamp in ns. */
  eventTimeNs: Map<string, bigint>;
}

export interface SimCallOptions {
  /** Epoch ms of the call's creation in its timestamps (default: 20 minutes ago, whole seconds). */
  createdMs?: number;
  /** Metrics samples kept per call (default 3). */
  maxMetrics?: number;
  badShare?: number;
}

const DEFAULT_CREATED = Math.floor((Date.now() - 20 * 60_000) / 1000) * 1000;

/** Epoch ms of an event's own time (data.timestamp; summaries have none and sort first). */
export function timestampMs(e: CloudEvent): number {
  const t = e.data['timestamp'];
  return typeof t === 'string' ? Date.parse(t) : 0;
}

/** Call `index` of the seeded simulator run `seed`, as the CloudEvents Twilio would send for it. */
export function simCall(seed: number, index: number, opts: SimCallOptions = {}): SimCall {
  const plan = planCall(seed, index, { badShare: opts.badShare ?? 0.3 });
  const created = opts.createdMs ?? DEFAULT_CREATED;
  const clock = { epochMs: (simMs: number) => created + simMs, emittedAtMs: created + plan.endMs + 1000 };
  const all = callCloudEvents(plan).map((e) => e.build(clock));
  const callEvents = all.filter((e) => e.type.includes('.call-event.')).sort((a, b) => timestampMs(a) - timestampMs(b));
  const used = new Set<number>();
  const eventTimeNs = new Map<string, bigint>();
  for (const e of callEvents) {
    let at = timestampMs(e);
    while (used.has(at)) at++;
    used.add(at);
    e.data['timestamp'] = new Date(at).toISOString();
    eventTimeNs.set(e.id, BigInt(at) * 1_000_000n);
  }
  const complete = all.find((e) => e.type === 'com.twilio.voice.insights.call-summary.complete');
  if (complete === undefined) throw new Error(`call ${index} of seed ${seed} has no complete summary`);
  return {
    index,
    callSid: plan.callSid,
    traceId: plan.callSid.slice(2).toLowerCase(),
    callEvents,
    metrics: all.filter((e) => e.type.includes('.call-metrics.')).slice(0, opts.maxMetrics ?? 3),
    partials: all.filter(
      (e) =>
        e.type === 'com.twilio.voice.insights.call-summary.partial' ||
        e.type === 'com.twilio.voice.insights.call-summary.predicted-complete',
    ),
    complete,
    eventTimeNs,
  };
}

/** The same CloudEvent under a new id, as Twilio sends a summary again (a new event, not a retry). */
export function withNewId(event: CloudEvent, suffix: string): CloudEvent {
  const id = `EZ${Buffer.from(`${event.id}:${suffix}`).toString('hex').slice(-32)}`;
  return { ...event, id };
}

export function body(events: readonly CloudEvent[]): Buffer {
  return Buffer.from(JSON.stringify(events));
}

// ---------------------------------------------------------------------------------------------
// Audit of the spans an OTLP receiver got

function stable(v: AttrValue | bigint | undefined): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return v.map(stable);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, stable(x)]),
    );
  }
  return v;
}

/** Everything a span says, as one string: two exports of the same span must be equal in it. */
export function fingerprint(s: OtlpSpan): string {
  return JSON.stringify({
    parent: s.parentSpanId ?? null,
    name: s.name,
    start: `${s.startTimeUnixNano}`,
    end: `${s.endTimeUnixNano}`,
    status: s.status,
    attributes: stable(s.attributes),
    events: s.events.map((e) => ({ name: e.name, time: `${e.timeUnixNano}`, attributes: stable(e.attributes) })),
  });
}

export interface SpanAudit {
  /** One span per (traceId, spanId), the first export of it. */
  unique: OtlpSpan[];
  /** Exports beyond the first of the same (traceId, spanId). */
  duplicateSpans: number;
  /**
   * Maximal runs of consecutive re-exports in arrival order. The outbox ships its oldest entries first,
   * so a batch the backend accepted but whose deletion a crash lost comes again as one run at the head
   * of the next export: one run per such crash at most.
   */
  duplicateRuns: number;
  /** (traceId, spanId) exported twice with different content: never allowed. */
  conflicting: string[];
}

export function auditSpans(spans: readonly OtlpSpan[]): SpanAudit {
  const first = new Map<string, { span: OtlpSpan; print: string }>();
  let duplicateSpans = 0;
  let duplicateRuns = 0;
  let inRun = false;
  const conflicting = new Set<string>();
  for (const s of spans) {
    const key = `${s.traceId}/${s.spanId}`;
    const seen = first.get(key);
    if (seen === undefined) {
      first.set(key, { span: s, print: fingerprint(s) });
      inRun = false;
      continue;
    }
    duplicateSpans++;
    if (!inRun) duplicateRuns++;
    inRun = true;
    if (fingerprint(s) !== seen.print) conflicting.add(key);
  }
  return {
    unique: [...first.values()].map((v) => v.span),
    duplicateSpans,
    duplicateRuns,
    conflicting: [...conflicting],
  };
}

export interface TraceView {
  roots: OtlpSpan[];
  late: OtlpSpan[];
  /** Times (ns) of the span events of the root and the late spans together, with repeats. */
  eventTimes: bigint[];
}

/** The (de-duplicated) spans grouped by trace id. */
export function byTrace(unique: readonly OtlpSpan[]): Map<string, TraceView> {
  const out = new Map<string, TraceView>();
  for (const s of unique) {
    let view = out.get(s.traceId);
    if (view === undefined) {
      view = { roots: [], late: [], eventTimes: [] };
      out.set(s.traceId, view);
    }
    (s.parentSpanId === undefined ? view.roots : view.late).push(s);
    for (const e of s.events) view.eventTimes.push(e.timeUnixNano);
  }
  return out;
}

/** traceProblems of each of `calls` against all its call events, in order; [] when every trace is right. */
export function callsProblems(
  calls: readonly SimCall[],
  traces: ReadonlyMap<string, TraceView>,
  opts: { complete: boolean },
): string[] {
  return calls.flatMap((c) =>
    traceProblems(
      c,
      traces.get(c.traceId),
      c.callEvents.map((e) => e.id),
      opts,
    ),
  );
}

/**
 * What is wrong with a call's trace against the call events that must be in it exactly once; [] when
 * it is right. Also wants exactly one root span, and a complete summary on it when `complete`.
 */
export function traceProblems(
  call: SimCall,
  view: TraceView | undefined,
  expectedEventIds: Iterable<string>,
  opts: { complete: boolean },
): string[] {
  if (view === undefined) return [`call ${call.index} (${call.callSid}): no spans`];
  const problems: string[] = [];
  const where = `call ${call.index} (${call.callSid})`;
  if (view.roots.length !== 1) problems.push(`${where}: ${view.roots.length} root spans`);
  const root = view.roots[0];
  if (opts.complete && root !== undefined && root.attributes['twilio.summary.state'] !== 'complete')
    problems.push(`${where}: root span summary state ${JSON.stringify(root.attributes['twilio.summary.state'])}`);
  const counts = new Map<bigint, number>();
  for (const t of view.eventTimes) counts.set(t, (counts.get(t) ?? 0) + 1);
  for (const id of expectedEventIds) {
    const t = call.eventTimeNs.get(id);
    if (t === undefined) throw new Error(`${id} is not a call event of ${where}`);
    const n = counts.get(t) ?? 0;
    if (n !== 1) problems.push(`${where}: call event ${id} appears ${n} times`);
    counts.delete(t);
  }
  for (const [t, n] of counts) problems.push(`${where}: span event at ${t} ns (x${n}) matches no expected call event`);
  return problems;
}
