// The plan of one simulated call: who called whom over which edges, how it went, its media and the
// call events it produces. Pure and seeded: planCall(seed, index) is the same call every time.
// Times are sim milliseconds since the call resource was created; schedule.ts maps them to the clock.
// Reference: /work/shared/reference/twilio-call-insights.md §2 (events), §3 (edges per call type),
// §4 (summary fields and enums).
import { generateMedia, type Media } from './media.js';
import {
  BAD_FLAVOURS,
  CODECS,
  edgesFor,
  isGatewayEdge,
  type BadFlavour,
  type CallDirection,
  type CallType,
  type Codec,
  type Edge,
  type Flavour,
  type GatewayEdge,
} from './model.js';
import { gatewayTags, sdkTags, sdkWarnings, unionTags } from './quality.js';
import { rngFor, sid, type Rng } from './random.js';

export interface PlanOptions {
  /** Share of calls (0..1) that get one of the bad flavours. */
  badShare: number;
}

/** One side of the call (summary `from` / `to`, §4.2). Numbers are from fictional ranges. */
export interface PartyPlan {
  number: string;
  connection: 'mobile' | 'landline' | 'voip' | 'twilio_sdk' | 'sip_trunk';
  carrier: string;
  countryCode: string;
  numberPrefix: string;
}

/** A call event as the plan knows it (§2); cloudevents.ts dresses it as a CloudEvent. */
export interface PlannedCallEvent {
  source: 'gateway' | 'sdk';
  edge: Edge;
  atMs: number;
  group: string;
  name: string;
  level: 'INFO' | 'WARNING' | 'ERROR';
  metric?: { threshold: number; values: number[] };
  error?: { code: number; message: string };
}

export interface Site {
  region: string;
  edgeLocation: string;
  twilioIp: string;
}

export interface CallPlan {
  seed: number;
  index: number;
  /**
   * Keys of this call's random streams (rngFor(seed, ...keys, 'media')): [index] for a call of its own,
   * [index, 'leg', n] for leg n of the conference started at index, so legs never share ids or draws.
   */
  keys: readonly (string | number)[];
  callSid: string;
  accountSid: string;
  callType: CallType;
  direction: CallDirection;
  flavour: Flavour;
  edges: readonly Edge[];
  codec: Codec;
  site: Site;
  from: PartyPlan;
  to: PartyPlan;
  /** SDK identity for client calls. */
  clientName: string | undefined;
  /**
   * When the call resource was created: 0 for a call of its own; a conference leg's times all count
   * from the conference's first call, so a leg dialled later is created later.
   */
  createdMs: number;
  /** properties.queue_time: CPS queueing between creation and start (ms). */
  queueMs: number;
  startMs: number;
  ringingMs: number | undefined;
  answeredMs: number | undefined;
  endMs: number;
  pddMs: number;
  durationSeconds: number;
  /** Absent for calls that never connected. */
  connectDurationSeconds: number | undefined;
  callState: 'completed' | 'fail';
  lastSipResponse: number;
  q850Cause: number;
  disconnectedBy: 'caller' | 'callee' | undefined;
  /** Undefined for calls without media (failed). */
  media: Media | undefined;
  /** Gateway call progress and SDK events, in time order. */
  callEvents: PlannedCallEvent[];
  /** Summary `tags` (§4.5), derived from the media by Twilio's thresholds. */
  tags: string[];
  /** sdk_edge.metrics.inbound.tags. */
  sdkTags: string[];
  /** How many call-summary.partial events precede predicted-complete and complete (§1: "several"). */
  partials: number;
  /** The call joined a conference: the summary's attributes.conference_participant (§4.1). */
  conferenceParticipant: boolean;
}

/** One account per seed, like a real subaccount sending all its calls. */
export function accountSidFor(seed: number): string {
  return sid('AC', rngFor(seed, 'account'));
}

// Twilio regions and edge locations (§2 metadata: region "us1", edge_location "ashburn"); IPs are
// documentation ranges or the one Twilio media IP the fixtures use.
export const SITES: readonly (readonly [Site, number])[] = [
  [{ region: 'us1', edgeLocation: 'ashburn', twilioIp: '54.172.60.3' }, 45],
  [{ region: 'us1', edgeLocation: 'umatilla', twilioIp: '34.203.254.80' }, 15],
  [{ region: 'ie1', edgeLocation: 'dublin', twilioIp: '54.171.127.192' }, 15],
  [{ region: 'de1', edgeLocation: 'frankfurt', twilioIp: '35.156.191.128' }, 10],
  [{ region: 'au1', edgeLocation: 'sydney', twilioIp: '54.252.254.64' }, 8],
  [{ region: 'jp1', edgeLocation: 'tokyo', twilioIp: '54.65.63.192' }, 4],
  [{ region: 'sg1', edgeLocation: 'singapore', twilioIp: '54.169.127.128' }, 3],
];

const DIRECTIONS: Readonly<Record<CallType, readonly (readonly [CallDirection, number])[]>> = {
  carrier: [
    ['inbound', 5],
    ['outbound_api', 3],
    ['outbound_dial', 2],
  ],
  sip: [
    ['inbound', 5],
    ['outbound_api', 3],
    ['outbound_dial', 2],
  ],
  client: [
    ['inbound', 5],
    ['outbound_dial', 3.5],
    ['outbound_api', 1.5],
  ],
  trunking: [
    ['trunking_originating', 1],
    ['trunking_terminating', 1],
  ],
};

/** A call that never connected: its final SIP response, Q.850 cause and whether it rang first. */
export interface Failure {
  sip: number;
  q850: number;
  rang: boolean;
}

/** Failure responses and their Q.850 causes (RFC 3398 mapping): 486 busy -> 17, 503 -> 41, 404 -> 1, 480 -> 18. */
export const FAILURES: readonly (readonly [Failure, number])[] = [
  [{ sip: 486, q850: 17, rang: true }, 4],
  [{ sip: 503, q850: 41, rang: false }, 3],
  [{ sip: 404, q850: 1, rang: false }, 2],
  [{ sip: 480, q850: 18, rang: true }, 1],
];

/** Voice SDK error codes surfaced on a failed client call (connection/error, §2.2). */
const SDK_FAILURE: Readonly<Record<number, { code: number; message: string }>> = {
  486: { code: 31486, message: 'Busy Here' },
  503: { code: 31005, message: 'Error sent from gateway in HANGUP' },
  404: { code: 31404, message: 'Not Found' },
  480: { code: 31480, message: 'Temporarily Unavailable' },
};

/** SDK identities of client calls (`client:agent_jdoe`). */
export const AGENT_NAMES = ['jdoe', 'asmith', 'mlopez', 'kchen', 'rpatel', 'tnguyen'] as const;

/** Bad calls last at least this long so their trouble shows in several samples. */
export const MIN_BAD_CONNECT_S = 20;

export function planCall(seed: number, index: number, options: PlanOptions): CallPlan {
  const rng = rngFor(seed, index, 'plan');
  const flavour: Flavour = rng.chance(options.badShare) ? pickBad(rng) : 'good';
  // MOS exists on the SDK edge only (§3), so a low_mos call is a client call.
  const callType: CallType =
    flavour === 'low_mos'
      ? 'client'
      : rng.weighted<CallType>([
          ['carrier', 40],
          ['client', 30],
          ['sip', 15],
          ['trunking', 15],
        ]);
  const direction = rng.weighted(DIRECTIONS[callType]);
  const site = rng.weighted(SITES);
  const codec = codecFor(rng, callType, site);
  const clientName = callType === 'client' ? `agent_${rng.pick(AGENT_NAMES)}` : undefined;
  const { from, to } = parties(rng, callType, direction, site, clientName);

  const queueMs = direction === 'outbound_api' && rng.chance(0.3) ? rng.int(50, 1500) : 0;
  const failure = flavour === 'failed' ? rng.weighted(FAILURES) : undefined;
  const pddMs = rng.int(600, 3500);
  const preConnectSeconds = Math.ceil(pddMs / 1000) + (failure ? rng.int(0, 1) : rng.int(2, 15));
  let connectSeconds: number | undefined;
  if (!failure) {
    // Call lengths are roughly log-normal; median ~90 s, capped at 15 min to keep runs light.
    const typical = Math.round(Math.exp(rng.normal(Math.log(90), 0.8)));
    connectSeconds = Math.min(900, Math.max(flavour === 'good' ? 8 : MIN_BAD_CONNECT_S, typical));
  }
  const disconnectedBy = failure ? undefined : rng.chance(0.5) ? 'caller' : 'callee';
  return assemblePlan(rng, {
    seed,
    index,
    keys: [index],
    flavour,
    callType,
    direction,
    site,
    codec,
    clientName,
    from,
    to,
    createdMs: 0,
    queueMs,
    failure,
    pddMs,
    preConnectSeconds,
    connectSeconds,
    disconnectedBy,
    conferenceParticipant: false,
  });
}

/** Everything that decides a call's course; assemblePlan derives its times, media and events. */
interface CallCourse {
  seed: number;
  index: number;
  keys: readonly (string | number)[];
  flavour: Flavour;
  callType: CallType;
  direction: CallDirection;
  site: Site;
  codec: Codec;
  clientName: string | undefined;
  from: PartyPlan;
  to: PartyPlan;
  createdMs: number;
  queueMs: number;
  failure: Failure | undefined;
  pddMs: number;
  /** Whole seconds from the start to the answer (or to the failure). */
  preConnectSeconds: number;
  /** Undefined: the call never connected (failure set). */
  connectSeconds: number | undefined;
  disconnectedBy: 'caller' | 'callee' | undefined;
  conferenceParticipant: boolean;
}

/** The plan of a call whose course is decided; draws its CallSid and partial count from `rng`. */
function assemblePlan(rng: Rng, c: CallCourse): CallPlan {
  const edges = edgesFor(c.callType, c.direction);
  const startMs = c.createdMs + c.queueMs;
  const ringingMs = c.failure && !c.failure.rang ? undefined : startMs + c.pddMs;
  const answeredMs = c.connectSeconds === undefined ? undefined : startMs + c.preConnectSeconds * 1000;
  const durationSeconds = c.preConnectSeconds + (c.connectSeconds ?? 0);
  const endMs = startMs + durationSeconds * 1000;
  const media =
    answeredMs === undefined || c.connectSeconds === undefined
      ? undefined
      : generateMedia(rngFor(c.seed, ...c.keys, 'media'), {
          flavour: c.flavour,
          edges,
          codec: c.codec,
          answeredMs,
          connectSeconds: c.connectSeconds,
        });
  const sdkQ = media?.sdkQuality;
  const sdkTagList = sdkQ ? sdkTags(sdkQ) : [];
  const tags = unionTags([...(media?.streams.map(gatewayTags) ?? []), sdkTagList]);

  const plan: CallPlan = {
    seed: c.seed,
    index: c.index,
    keys: c.keys,
    callSid: sid('CA', rng),
    accountSid: accountSidFor(c.seed),
    callType: c.callType,
    direction: c.direction,
    flavour: c.flavour,
    edges,
    codec: c.codec,
    site: c.site,
    from: c.from,
    to: c.to,
    clientName: c.clientName,
    createdMs: c.createdMs,
    queueMs: c.queueMs,
    startMs,
    ringingMs,
    answeredMs,
    endMs,
    pddMs: c.pddMs,
    durationSeconds,
    connectDurationSeconds: c.connectSeconds,
    callState: c.failure ? 'fail' : 'completed',
    lastSipResponse: c.failure?.sip ?? 200,
    // 16 = normal call clearing.
    q850Cause: c.failure?.q850 ?? 16,
    disconnectedBy: c.disconnectedBy,
    media,
    callEvents: [],
    tags,
    sdkTags: sdkTagList,
    partials: rng.int(2, 3),
    conferenceParticipant: c.conferenceParticipant,
  };
  plan.callEvents = [...gatewayProgress(plan), ...sdkEvents(plan)].sort((a, b) => a.atMs - b.atMs);
  return plan;
}

/** Opus for the SDK; G.711 by region (mu-law in the US and Japan, A-law elsewhere); some SIP trunks negotiate Opus. */
function codecFor(rng: Rng, callType: CallType, site: Site): Codec {
  if (callType === 'client') return CODECS.opus;
  if (site.region === 'us1' || site.region === 'jp1') return CODECS.pcmu;
  return callType === 'sip' && rng.chance(0.3) ? CODECS.opus : CODECS.pcma;
}

/** What a conference planner decides about one leg; planLeg draws the rest (codec, numbers, CallSid). */
export interface LegCourse {
  index: number;
  /** The leg's number within its conference: its random streams are [index, 'leg', leg]. */
  leg: number;
  flavour: Flavour;
  callType: CallType;
  direction: CallDirection;
  site: Site;
  clientName: string | undefined;
  createdMs: number;
  queueMs: number;
  failure: Failure | undefined;
  pddMs: number;
  preConnectSeconds: number;
  connectSeconds: number | undefined;
  disconnectedBy: 'caller' | 'callee' | undefined;
  /** It joined the conference (a dial that failed never did). */
  joined: boolean;
}

/** A conference leg: a call like any other, on the conference's time line. */
export function planLeg(seed: number, course: LegCourse): CallPlan {
  const keys = [course.index, 'leg', course.leg] as const;
  const rng = rngFor(seed, ...keys, 'plan');
  const codec = codecFor(rng, course.callType, course.site);
  const { from, to } = parties(rng, course.callType, course.direction, course.site, course.clientName);
  return assemblePlan(rng, {
    ...course,
    seed,
    keys,
    codec,
    from,
    to,
    conferenceParticipant: course.joined,
  });
}

/** One of the bad flavours, at the weights of calls of their own. */
export function pickBad(rng: Rng): BadFlavour {
  const weights: Readonly<Record<BadFlavour, number>> = {
    high_jitter: 25,
    high_packet_loss: 25,
    low_mos: 15,
    failed: 20,
    silence: 15,
  };
  return rng.weighted(BAD_FLAVOURS.map((f) => [f, weights[f]] as const));
}

/**
 * Gateway call progress on the call's first gateway edge. Twilio generates these from call progress
 * (initiated, ringing, answered, completed; §2.1); names are opaque strings, so these are ours.
 */
function gatewayProgress(plan: CallPlan): PlannedCallEvent[] {
  const edge: GatewayEdge | undefined = plan.edges.find(isGatewayEdge);
  if (edge === undefined) return [];
  const event = (atMs: number, name: string): PlannedCallEvent => ({
    source: 'gateway',
    edge,
    atMs,
    group: 'call',
    name,
    level: 'INFO',
  });
  const events = [event(plan.startMs, 'call.initiated')];
  if (plan.ringingMs !== undefined) events.push(event(plan.ringingMs, 'call.ringing'));
  if (plan.answeredMs !== undefined) events.push(event(plan.answeredMs, 'call.answered'));
  events.push(event(plan.endMs, 'call.completed'));
  return events;
}

/** SDK connection events (§2.2 group `connection`) plus the warnings its samples raise and clear. */
function sdkEvents(plan: CallPlan): PlannedCallEvent[] {
  if (!plan.edges.includes('sdk_edge')) return [];
  const event = (
    atMs: number,
    group: string,
    name: string,
    level: PlannedCallEvent['level'] = 'INFO',
  ): PlannedCallEvent => ({ source: 'sdk', edge: 'sdk_edge', atMs, group, name, level });
  // properties.direction inbound: the client placed the call (Device.connect -> "outgoing");
  // otherwise Twilio dialled the client ("incoming").
  const placedByClient = plan.direction === 'inbound';
  const events = [
    placedByClient
      ? event(plan.startMs, 'connection', 'outgoing')
      : event(plan.ringingMs ?? plan.startMs + plan.pddMs, 'connection', 'incoming'),
  ];
  if (plan.callState === 'fail') {
    const failure = SDK_FAILURE[plan.lastSipResponse];
    if (failure) events.push({ ...event(plan.endMs, 'connection', 'error', 'ERROR'), error: failure });
    return events;
  }
  if (plan.answeredMs !== undefined)
    events.push(event(plan.answeredMs, 'connection', placedByClient ? 'accepted-by-remote' : 'accepted-by-local'));
  for (const w of sdkWarnings(plan.media?.sdk ?? [])) {
    events.push({ ...event(w.atMs, w.group, w.name, w.level), metric: { threshold: w.threshold, values: w.values } });
  }
  const clientHungUp = placedByClient ? plan.disconnectedBy === 'caller' : plan.disconnectedBy === 'callee';
  events.push(event(plan.endMs, 'connection', clientHungUp ? 'disconnected-by-local' : 'disconnected-by-remote'));
  return events;
}

const US_CARRIERS = ['T-Mobile USA, Inc.', 'AT&T Wireless', 'Verizon Wireless', 'Comcast'];

function pstn(rng: Rng, site: Site): PartyPlan {
  // Fictional numbers: US 555-01XX, UK Ofcom drama range 020 7946 0XXX, AU 0491 570 XXX.
  if (site.region === 'ie1' || site.region === 'de1') {
    return {
      number: `+4420794600${rng.int(0, 99).toString().padStart(2, '0')}`,
      connection: rng.pick(['mobile', 'landline'] as const),
      carrier: 'BT',
      countryCode: 'GB',
      numberPrefix: '4420',
    };
  }
  if (site.region === 'au1' || site.region === 'sg1') {
    return {
      number: `+61491570${rng.int(100, 999)}`,
      connection: 'mobile',
      carrier: 'Telstra',
      countryCode: 'AU',
      numberPrefix: '6149',
    };
  }
  const area = rng.pick(['415', '303', '212', '512']);
  return {
    number: `+1${area}55501${rng.int(0, 99).toString().padStart(2, '0')}`,
    connection: rng.pick(['mobile', 'landline'] as const),
    carrier: rng.pick(US_CARRIERS),
    countryCode: 'US',
    numberPrefix: `1${area}`,
  };
}

function parties(
  rng: Rng,
  type: CallType,
  direction: CallDirection,
  site: Site,
  clientName: string | undefined,
): { from: PartyPlan; to: PartyPlan } {
  const far = pstn(rng, site);
  const twilioNumber: PartyPlan = { ...pstn(rng, site), connection: 'voip', carrier: 'Twilio' };
  if (type === 'client') {
    const client: PartyPlan = {
      number: `client:${clientName ?? 'agent'}`,
      connection: 'twilio_sdk',
      carrier: '',
      countryCode: 'US',
      numberPrefix: '',
    };
    return direction === 'inbound' ? { from: client, to: far } : { from: far, to: client };
  }
  if (type === 'sip') {
    const sipUser: PartyPlan = {
      number: `sip:${rng.pick(['alice', 'bob', 'frontdesk'])}@pbx.example.com`,
      connection: 'sip_trunk',
      carrier: '',
      countryCode: '',
      numberPrefix: '',
    };
    return direction === 'inbound' ? { from: sipUser, to: twilioNumber } : { from: twilioNumber, to: sipUser };
  }
  if (direction === 'inbound' || direction === 'trunking_originating') return { from: far, to: twilioNumber };
  return { from: twilioNumber, to: far };
}
