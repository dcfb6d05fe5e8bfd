// A planned call as the CloudEvents Twilio Event Streams would send for it, in Twilio's shapes
// (test/fixtures/** are the field-by-field reference; /work/shared/reference/twilio-call-insights.md
// §1.2 envelope, §2 call events, §3 call metrics, §4 call summaries). Events are built lazily: a long
// run holds plans, not JSON, until each delivery is due.
import type { EventType } from '../events/types.js';
import type { CallPlan, PartyPlan, PlannedCallEvent, Site } from './call-plan.js';
import type { GatewayInterval, SdkSample, StreamSummary } from './media.js';
import { isGatewayEdge, type Edge, type GatewayEdge } from './model.js';
import { rngFor, sid } from './random.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface CloudEvent {
  specversion: '1.0';
  type: EventType;
  source: string;
  id: string;
  dataschema: string;
  datacontenttype: 'application/json';
  time: string;
  data: JsonObject;
}

/**
 * How Twilio delays an event after it is ready (schedule.ts; reference §1 timing column and §7: the
 * conference partial comes with the conference-start event, a participant's summary with its
 * participant-leave event, the complete conference summary with the conference-end event).
 */
export type Timing =
  | 'realtime'
  | 'partial'
  | 'predicted-complete'
  | 'complete'
  | 'conference-start'
  | 'participant-leave'
  | 'conference-end';

/** Maps the plan's sim times to the epoch and says when Twilio emitted the event (CloudEvent `time`). */
export interface EventClock {
  epochMs(simMs: number): number;
  emittedAtMs: number;
}

export interface SimEvent {
  id: string;
  type: EventType;
  /** The event's own time (data.timestamp), sim ms since call creation; summaries: the call's end. */
  atMs: number;
  /** When Twilio has it to publish: the end of the SDK's 10-sample batch for SDK metrics, else atMs. */
  readyMs: number;
  timing: Timing;
  /** Interval packets of a metrics sample, for the report. */
  packets?: { edge: Edge; received: number; lost: number; sent: number };
  build(clock: EventClock): CloudEvent;
}

export const EVENT_TYPES_SENT = {
  gatewayEvent: 'com.twilio.voice.insights.call-event.gateway',
  sdkEvent: 'com.twilio.voice.insights.call-event.sdk',
  gatewayMetric: 'com.twilio.voice.insights.call-metrics.gateway',
  sdkMetric: 'com.twilio.voice.insights.call-metrics.sdk',
  partial: 'com.twilio.voice.insights.call-summary.partial',
  predicted: 'com.twilio.voice.insights.call-summary.predicted-complete',
  complete: 'com.twilio.voice.insights.call-summary.complete',
} as const satisfies Record<string, EventType>;

// Schema versions as subscribed today (§1.1): CallEvent/3, CallMetric/2, CallSummary/2.
const SCHEMA = {
  event: 'https://events-schemas.twilio.com/VoiceInsights.CallEvent/3',
  metric: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2',
  summary: 'https://events-schemas.twilio.com/VoiceInsights.CallSummary/2',
} as const;

// twilio-voice.js posts metrics in batches of 10 one-second samples (§1 notes, METRICS_BATCH_SIZE = 10).
const SDK_BATCH = 10;

export const iso = (ms: number) => new Date(ms).toISOString();
/** Summary times are whole seconds without milliseconds ("2021-08-25T03:40:25Z", §4.1). */
export const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Every CloudEvent Twilio would publish about this call, each with a unique EZ id. */
export function callCloudEvents(plan: CallPlan): SimEvent[] {
  const ids = rngFor(plan.seed, ...plan.keys, 'ids');
  const nextId = () => sid('EZ', ids);
  const ctx = contextOf(plan);
  const events: SimEvent[] = [];
  for (const e of plan.callEvents) {
    const type = e.source === 'sdk' ? EVENT_TYPES_SENT.sdkEvent : EVENT_TYPES_SENT.gatewayEvent;
    const id = nextId();
    events.push({
      id,
      type,
      atMs: e.atMs,
      readyMs: e.atMs,
      timing: 'realtime',
      build: (clock) => envelope(ctx, type, id, 'Events', SCHEMA.event, clock, callEventData(ctx, e, clock)),
    });
  }
  for (const interval of plan.media?.gateway ?? []) {
    const id = nextId();
    const type = EVENT_TYPES_SENT.gatewayMetric;
    events.push({
      id,
      type,
      atMs: interval.atMs,
      readyMs: interval.atMs,
      timing: 'realtime',
      packets: { edge: interval.edge, received: interval.packetsReceived, lost: interval.packetsLost, sent: 0 },
      build: (clock) =>
        envelope(ctx, type, id, 'Metrics', SCHEMA.metric, clock, gatewayMetricData(ctx, interval, clock)),
    });
  }
  const answeredMs = plan.answeredMs ?? 0;
  (plan.media?.sdk ?? []).forEach((sample, i) => {
    const id = nextId();
    const type = EVENT_TYPES_SENT.sdkMetric;
    const batchEnd = answeredMs + Math.ceil((i + 1) / SDK_BATCH) * SDK_BATCH * 1000;
    events.push({
      id,
      type,
      atMs: sample.atMs,
      readyMs: Math.min(batchEnd, plan.endMs),
      timing: 'realtime',
      packets: {
        edge: 'sdk_edge',
        received: sample.packetsReceived,
        lost: sample.packetsLost,
        sent: sample.packetsSent,
      },
      build: (clock) => envelope(ctx, type, id, 'Metrics', SCHEMA.metric, clock, sdkMetricData(ctx, sample, clock)),
    });
  });
  // Summaries hold only the facts they need, so a plan's samples can be dropped once they are sent.
  const facts = summaryFacts(plan);
  const stages: { type: EventType; timing: Timing; stage: SummaryStage }[] = [];
  for (let i = 0; i < plan.partials; i++)
    stages.push({ type: EVENT_TYPES_SENT.partial, timing: 'partial', stage: i === 0 ? 'first-partial' : 'partial' });
  stages.push({ type: EVENT_TYPES_SENT.predicted, timing: 'predicted-complete', stage: 'predicted-complete' });
  stages.push({ type: EVENT_TYPES_SENT.complete, timing: 'complete', stage: 'complete' });
  stages.forEach(({ type, timing, stage }, i) => {
    const id = nextId();
    const version = i + 1;
    events.push({
      id,
      type,
      atMs: plan.endMs,
      readyMs: plan.endMs,
      timing,
      build: (clock) =>
        envelope(ctx, type, id, 'Summary', SCHEMA.summary, clock, summaryData(facts, stage, version, clock)),
    });
  });
  return events;
}

/** What every event of a call repeats (identity and where it ran), without the media samples. */
interface CallContext {
  callSid: string;
  accountSid: string;
  site: Site;
  externalIp: string;
  clientIp: string;
  clientName: string | undefined;
  codec: CallPlan['codec'];
}

function contextOf(plan: CallPlan): CallContext {
  const octet = (parseInt(plan.callSid.slice(2, 4), 16) % 250) + 2;
  // Documentation address ranges (RFC 5737) for the far side and the SDK's public IP.
  return {
    callSid: plan.callSid,
    accountSid: plan.accountSid,
    site: plan.site,
    externalIp: `203.0.113.${octet}`,
    clientIp: `192.0.2.${octet}`,
    clientName: plan.clientName,
    codec: plan.codec,
  };
}

function envelope(
  ctx: CallContext,
  type: EventType,
  id: string,
  kind: 'Events' | 'Metrics' | 'Summary',
  dataschema: string,
  clock: EventClock,
  data: JsonObject,
): CloudEvent {
  return {
    specversion: '1.0',
    type,
    source: `/v1/Voice/${ctx.callSid}/${kind}`,
    id,
    dataschema,
    datacontenttype: 'application/json',
    time: iso(clock.emittedAtMs),
    data,
  };
}

function gatewayMetadata(ctx: CallContext): JsonObject {
  return {
    region: ctx.site.region,
    edge_location: ctx.site.edgeLocation,
    twilio_ip: ctx.site.twilioIp,
    external_ip: ctx.externalIp,
  };
}

function sdkMetadata(ctx: CallContext): JsonObject {
  return {
    client_name: ctx.clientName ?? '',
    ip_address: ctx.clientIp,
    city: 'Denver',
    country_code: 'US',
    country_subdivision: 'Colorado',
    location: { lat: 39.7392, lon: -104.9903 },
    sdk: {
      type: 'twilio-voice.js',
      version: '2.12.3',
      platform: 'web',
      region: '',
      selected_region: 'gll',
      browser: { name: 'Chrome', major: '122', version: '122.0.6261.112' },
    },
  };
}

/** All four edge keys, null except the reporting one (§2, §3: "only the reporting edge is populated"). */
function withEdge(edge: Edge, value: JsonObject): JsonObject {
  const edges: JsonObject = { carrier_edge: null, sip_edge: null, client_edge: null, sdk_edge: null };
  edges[edge] = value;
  return edges;
}

function callEventData(ctx: CallContext, e: PlannedCallEvent, clock: EventClock): JsonObject {
  let edgeData: JsonObject;
  if (e.source === 'gateway') {
    edgeData = { metadata: gatewayMetadata(ctx) };
  } else {
    edgeData = { metadata: sdkMetadata(ctx) };
    if (e.metric) edgeData['metric'] = { threshold: e.metric.threshold, values: e.metric.values };
    if (e.error) edgeData['error'] = { code: e.error.code, message: e.error.message };
  }
  return {
    timestamp: iso(clock.epochMs(e.atMs)),
    call_sid: ctx.callSid,
    account_sid: ctx.accountSid,
    edge: e.edge,
    group: e.group,
    name: e.name,
    level: e.level,
    ...withEdge(e.edge, edgeData),
  };
}

/** Gateway metrics fixtures spell G.711 in capitals ("PCMU"), summaries in lowercase. */
function gatewayCodecName(ctx: CallContext): string {
  return ctx.codec.name === 'opus' ? 'opus' : ctx.codec.name.toUpperCase();
}

function gatewayMetricData(ctx: CallContext, m: GatewayInterval, clock: EventClock): JsonObject {
  return {
    timestamp: iso(clock.epochMs(m.atMs)),
    call_sid: ctx.callSid,
    account_sid: ctx.accountSid,
    edge: m.edge,
    direction: m.direction,
    ...withEdge(m.edge, {
      codec: ctx.codec.payloadType,
      codec_name: gatewayCodecName(ctx),
      // Gateways report counts and loss per interval, jitter only as a running max/avg (§3).
      interval: {
        packets_received: m.packetsReceived,
        packets_lost: m.packetsLost,
        packets_loss_percentage: m.lossPct,
      },
      cumulative: {
        packets_received: m.cumulative.packetsReceived,
        packets_lost: m.cumulative.packetsLost,
        jitter: { max: m.cumulative.jitterMaxMs, avg: m.cumulative.jitterAvgMs },
      },
      metadata: gatewayMetadata(ctx),
    }),
  };
}

function sdkMetricData(ctx: CallContext, s: SdkSample, clock: EventClock): JsonObject {
  return {
    timestamp: iso(clock.epochMs(s.atMs)),
    call_sid: ctx.callSid,
    account_sid: ctx.accountSid,
    edge: 'sdk_edge',
    direction: 'both',
    ...withEdge('sdk_edge', {
      codec: ctx.codec.payloadType,
      codec_name: ctx.codec.name,
      // §3: sdk_edge.interval values come as `{ "value": n }` only.
      interval: {
        audio_in: { value: s.audioIn },
        audio_out: { value: s.audioOut },
        jitter: { value: s.jitterMs },
        mos: { value: s.mos },
        rtt: { value: s.rttMs },
        packets_received: s.packetsReceived,
        packets_lost: s.packetsLost,
        // Twilio's REST docs show packets_sent in cumulative only; CallMetric/2 allows it per interval too,
        // and twilio_voice_packets_sent_total counts interval values only.
        packets_sent: s.packetsSent,
        packets_loss_percentage: s.lossPct,
      },
      cumulative: {
        bytes_received: s.cumulative.bytesReceived,
        bytes_sent: s.cumulative.bytesSent,
        packets_received: s.cumulative.packetsReceived,
        packets_lost: s.cumulative.packetsLost,
        packets_sent: s.cumulative.packetsSent,
      },
      metadata: sdkMetadata(ctx),
    }),
  };
}

// ------------------------------------------------------------------------------------------------
// Summaries (§4)

type SummaryStage = 'first-partial' | 'partial' | 'predicted-complete' | 'complete';

interface SummaryFacts {
  ctx: CallContext;
  plan: Omit<CallPlan, 'media' | 'callEvents'>;
  streams: StreamSummary[];
  sdk: NonNullable<CallPlan['media']>['sdkQuality'];
  sdkEvents: { levels: Record<string, number>; groups: Record<string, number>; errors: Record<string, number> };
}

function summaryFacts(plan: CallPlan): SummaryFacts {
  const { media, callEvents, ...rest } = plan;
  const levels: Record<string, number> = {};
  const groups: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const e of callEvents.filter((x) => x.source === 'sdk')) {
    levels[e.level] = (levels[e.level] ?? 0) + 1;
    groups[e.group] = (groups[e.group] ?? 0) + 1;
    if (e.error) errors[String(e.error.code)] = (errors[String(e.error.code)] ?? 0) + 1;
  }
  return {
    ctx: contextOf(plan),
    plan: rest,
    streams: media?.streams ?? [],
    sdk: media?.sdkQuality,
    sdkEvents: { levels, groups, errors },
  };
}

/** 0..255 from the CallSid's last two hex digits: per-call variety that draws nothing from the Rng, so seeded runs stay as they were. */
function sidByte(callSid: string): number {
  const n = Number.parseInt(callSid.slice(-2), 16);
  return Number.isNaN(n) ? 0 : n;
}

/** §4.6: SHAKEN/STIR caller verification is a PSTN matter; about three in four PSTN callers come verified. */
function trustData(p: SummaryFacts['plan']): JsonValue {
  if (p.callType !== 'carrier' && p.callType !== 'trunking') return null;
  return { verified_caller: { verified: sidByte(p.callSid) % 4 !== 0 } };
}

/**
 * §4.7: about a third of the calls get annotated after the fact (Call Annotation API), scored by how
 * they went: calls that failed or carry a quality tag 1-2 (bad, poor), the others 4-5 (good, excellent).
 */
function annotationData(p: SummaryFacts['plan']): JsonValue {
  const b = sidByte(p.callSid);
  if (b % 3 !== 0) return null;
  const bad = p.callState === 'fail' || p.tags.length > 0;
  return {
    answered_by: 'human',
    connectivity_issue: p.callState === 'fail' ? 'dropped_call' : 'no_connectivity_issue',
    quality_issues: p.tags.length > 0 ? ['choppy_robotic'] : ['no_quality_issue'],
    spam: false,
    call_score: (bad ? 1 : 4) + (b % 2),
    comment: null,
    incident: null,
  };
}

function party(p: PartyPlan, side: 'from' | 'to'): JsonObject {
  return {
    [side === 'from' ? 'caller' : 'callee']: p.number,
    carrier: p.carrier,
    connection: p.connection,
    number_prefix: p.numberPrefix,
    country_code: p.countryCode,
  };
}

/** Direction of an edge's leg as seen by Twilio: the first edge carries the call in for inbound calls. */
function edgeDirection(f: SummaryFacts, edge: Edge): 'inbound' | 'outbound' {
  const entersFirst =
    f.plan.direction === 'inbound' ||
    f.plan.direction === 'trunking_originating' ||
    f.plan.direction === 'trunking_terminating';
  const first = f.plan.edges.find(isGatewayEdge) === edge;
  return entersFirst === first ? 'inbound' : 'outbound';
}

function gatewaySummaryEdge(f: SummaryFacts, edge: GatewayEdge, withMetrics: boolean): JsonObject {
  const codec = { codec: f.ctx.codec.payloadType, codec_name: f.ctx.codec.name };
  const stream = (direction: 'inbound' | 'outbound') =>
    f.streams.find((s) => s.edge === edge && s.direction === direction);
  const inbound = stream('inbound');
  const outbound = stream('outbound');
  const metrics: JsonValue =
    withMetrics && inbound && outbound
      ? {
          inbound: {
            ...codec,
            packets_received: inbound.packetsReceived,
            packets_lost: inbound.packetsLost,
            packets_loss_percentage: inbound.lossPct,
            jitter: { max: inbound.jitterMaxMs, avg: inbound.jitterAvgMs },
          },
          outbound: {
            ...codec,
            packets_sent: outbound.packetsReceived + outbound.packetsLost,
            packets_lost: outbound.packetsLost,
            packets_loss_percentage: outbound.lossPct,
            jitter: { max: outbound.jitterMaxMs, avg: outbound.jitterAvgMs },
          },
        }
      : null;
  return {
    metrics,
    properties: {
      direction: edgeDirection(f, edge),
      media_region: f.ctx.site.region,
      signaling_region: f.ctx.site.region,
      edge_location: f.ctx.site.edgeLocation,
      twilio_media_ip: f.ctx.site.twilioIp,
      external_media_ip: edge === 'client_edge' ? f.ctx.clientIp : f.ctx.externalIp,
    },
  };
}

function sdkSummaryEdge(f: SummaryFacts, withMetrics: boolean): JsonObject {
  const codec = { codec: f.ctx.codec.payloadType, codec_name: f.ctx.codec.name };
  const q = f.sdk;
  const metrics: JsonValue =
    withMetrics && q
      ? {
          inbound: {
            ...codec,
            packets_received: q.packetsReceived,
            packets_lost: q.packetsLost,
            packets_loss_percentage: q.lossPct,
            jitter: { max: q.jitterMaxMs, avg: q.jitterAvgMs },
            mos: { min: q.mos.min, max: q.mos.max, avg: q.mos.avg },
            rtt: { min: q.rttMs.min, max: q.rttMs.max, avg: q.rttMs.avg },
            tags: [...f.plan.sdkTags],
          },
          outbound: {
            ...codec,
            packets_sent: q.packetsReceived + q.packetsLost,
            packets_lost: 0,
            packets_loss_percentage: 0,
          },
        }
      : null;
  return {
    metrics,
    properties: {
      // From the SDK's side: it placed the call (outgoing) when Twilio saw it inbound.
      direction: f.plan.direction === 'inbound' ? 'outbound' : 'inbound',
      settings: { dscp: true, ice_restart_enabled: false, edge: 'roaming', selected_edges: ['roaming'] },
    },
    events: f.sdkEvents,
  };
}

/**
 * One snapshot. Partials fill in as Twilio assembles the summary (§4.1 processing_state, §8): the first
 * has no edge metrics and no tags yet and does not know who hung up; later ones are complete snapshots.
 */
function summaryData(f: SummaryFacts, stage: SummaryStage, version: number, clock: EventClock): JsonObject {
  const p = f.plan;
  const early = stage === 'first-partial';
  const edge = (name: Edge): JsonValue => {
    if (!p.edges.includes(name)) return null;
    const withMetrics = !early && p.callState !== 'fail';
    return isGatewayEdge(name) ? gatewaySummaryEdge(f, name, withMetrics) : sdkSummaryEdge(f, withMetrics);
  };
  const data: JsonObject = {
    call_sid: p.callSid,
    account_sid: p.accountSid,
    parent_call_sid: '',
    parent_account_sid: '',
    created_time: isoSeconds(clock.epochMs(p.createdMs)),
    start_time: isoSeconds(clock.epochMs(p.startMs)),
    end_time: isoSeconds(clock.epochMs(p.endMs)),
    duration: p.durationSeconds,
    call_type: p.callType,
    call_state: p.callState,
    answered_by: 'unknown',
    from: party(p.from, 'from'),
    to: party(p.to, 'to'),
    processing_state: stage === 'complete' ? 'complete' : 'partial',
    processing_version: version,
    carrier_edge: edge('carrier_edge'),
    sip_edge: edge('sip_edge'),
    client_edge: edge('client_edge'),
    sdk_edge: edge('sdk_edge'),
    tags: early ? null : [...p.tags],
    attributes: { conference_participant: p.conferenceParticipant },
    properties: {
      q850_cause: early ? 0 : p.q850Cause,
      last_sip_response_num: p.lastSipResponse,
      pdd_ms: p.pddMs,
      queue_time: p.queueMs,
      direction: p.direction,
      disconnected_by: early || p.disconnectedBy === undefined ? 'unknown_disconnected_by' : p.disconnectedBy,
      region: f.ctx.site.region,
      media_region: f.ctx.site.region,
      signaling_region: f.ctx.site.region,
    },
    trust: trustData(p),
    annotation: early ? null : annotationData(p),
  };
  // Never connected: no connect_duration at all (the call was never answered).
  if (p.connectDurationSeconds !== undefined) data['connect_duration'] = p.connectDurationSeconds;
  return data;
}
