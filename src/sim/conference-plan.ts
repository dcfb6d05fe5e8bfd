// The plan of one simulated conference, as a contact centre runs them (every Flex call is one): the
// customer's inbound call joins and waits, an agent's client leg is dialled through the Participants
// API and starts it, sometimes a supervisor monitors or coaches the agent and sometimes a third party
// is added. Each leg is a real call (planLeg) with its own CallSid, events, metrics and summaries;
// conference-participant.ts adds what Conference Insights reports about each leg.
// Pure and seeded: planConference(seed, index) is the same conference every time. Times are sim ms
// from the creation of the customer's call. Reference: /work/shared/reference/twilio-call-insights.md
// section 7; https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-summary-resource
import {
  AGENT_NAMES,
  FAILURES,
  MIN_BAD_CONNECT_S,
  SITES,
  planLeg,
  type CallPlan,
  type LegCourse,
  type PlanOptions,
  type Site,
} from './call-plan.js';
import {
  conferenceTags,
  maxConcurrent,
  participantOf,
  type ParticipantLabel,
  type ParticipantPlan,
} from './conference-participant.js';
import type { CallDirection, CallType, Flavour } from './model.js';
import { rngFor, sid, type Rng } from './random.js';

export type ConferenceStatus = 'completed' | 'not_started';
export type ConferenceEndReason =
  'last_participant_left' | 'participant_with_end_conference_on_exit_left' | 'conference_ended_via_api';

export interface ConferencePlan {
  seed: number;
  index: number;
  conferenceSid: string;
  accountSid: string;
  friendlyName: string;
  /** Every call the conference made: its participants' calls and a dial that never joined. */
  calls: CallPlan[];
  /** One per leg that joined: customer, agent, then any supervisor and third party. */
  participants: ParticipantPlan[];
  createMs: number;
  /** Undefined when it never started (start_failure). */
  startMs: number | undefined;
  endMs: number;
  status: ConferenceStatus;
  endReason: ConferenceEndReason;
  /** CallSid of the leg whose leaving ended it; undefined when the API ended it. */
  endedBy: string | undefined;
  mixerRegion: string;
  mixerRegionRequested: string | undefined;
  recordingEnabled: boolean;
  maxConcurrent: number;
  tags: string[];
  detectedIssues: { call_quality: number; region_configuration: number; participant_behavior: number };
  /** The last moment of any of its calls: what its timestamps are anchored on (schedule.ts). */
  lengthMs: number;
}

/** Whether new call `index` of a run becomes a conference: its own stream, so plain calls stay as they were. */
export function isConferenceSlot(seed: number, index: number, share: number): boolean {
  return share > 0 && rngFor(seed, index, 'conference').chance(share);
}

/** Conferences whose agent leg never connects: the customer waits alone and gives up. */
export const START_FAILURE_SHARE = 0.04;
/** Twilio's default maxParticipants (the REST example shows 250). */
export const MAX_PARTICIPANTS = 250;
/** The conversation ends by then (sim ms), so a conference is no longer than a call of its own (~15 min). */
const LATEST_END_MS = 880_000;
const SECOND = 1000;

/** Bad flavours a connected leg can have: no `failed` (a failed dial never joins), low_mos on the SDK only. */
function badFlavour(rng: Rng, callType: CallType): Flavour {
  return rng.weighted<Flavour>([
    ['high_jitter', 25],
    ['high_packet_loss', 25],
    ['low_mos', callType === 'client' ? 15 : 0],
    ['silence', 15],
  ]);
}

interface LegDraft {
  label: ParticipantLabel;
  course: Omit<LegCourse, 'connectSeconds' | 'disconnectedBy'>;
  answeredMs: number;
  joinMs: number;
  /** When it leaves of its own accord; undefined: it stays until the conference ends. */
  leavesMs: number | undefined;
}

interface DraftInput {
  leg: number;
  label: ParticipantLabel;
  bad: boolean;
  callType: CallType;
  direction: CallDirection;
  createdMs: number;
  queueMs: number;
  /** Post-dial delay (ms) and then whole seconds of ringing until the answer. */
  pddMs: readonly [number, number];
  ringS: readonly [number, number];
  /** From the answer to joining (ms): TwiML, IVR. */
  joinLagMs: readonly [number, number];
  clientName?: string;
}

function draft(rng: Rng, index: number, site: Site, d: DraftInput): LegDraft {
  const flavour = d.bad ? badFlavour(rng, d.callType) : 'good';
  const pddMs = rng.int(d.pddMs[0], d.pddMs[1]);
  const preConnectSeconds = Math.ceil(pddMs / 1000) + rng.int(d.ringS[0], d.ringS[1]);
  const answeredMs = d.createdMs + d.queueMs + preConnectSeconds * SECOND;
  return {
    label: d.label,
    course: {
      index,
      leg: d.leg,
      flavour,
      callType: d.callType,
      direction: d.direction,
      site,
      clientName: d.clientName,
      createdMs: d.createdMs,
      queueMs: d.queueMs,
      failure: undefined,
      pddMs,
      preConnectSeconds,
      joined: true,
    },
    answeredMs,
    joinMs: answeredMs + rng.int(d.joinLagMs[0], d.joinLagMs[1]),
    leavesMs: undefined,
  };
}

/** The leg's call: it hangs up a moment after leaving, so its connect time covers its stay. */
function finishLeg(seed: number, rng: Rng, d: LegDraft, leaveMs: number, leftByItself: boolean): CallPlan {
  const hangupMs = leaveMs + rng.int(100, 1500);
  const connectSeconds = Math.max(
    d.course.flavour === 'good' ? 1 : MIN_BAD_CONNECT_S,
    Math.ceil((hangupMs - d.answeredMs) / SECOND),
  );
  // The far side hangs up when the leg leaves by itself; Twilio's side when the conference removes it.
  const disconnectedBy = leftByItself === (d.course.direction === 'inbound') ? 'caller' : 'callee';
  return planLeg(seed, { ...d.course, connectSeconds, disconnectedBy });
}

export function planConference(seed: number, index: number, options: PlanOptions): ConferencePlan {
  const rng = rngFor(seed, index, 'conference', 'plan');
  const site = rng.weighted(SITES);
  const conferenceSid = sid('CF', rng);
  // Flex names a conference after its TaskRouter task (WT...).
  const friendlyName = `WT${rng.hex(32)}`;
  const legCount = rng.weighted([
    [2, 45],
    [3, 35],
    [4, 20],
  ]);
  const withSupervisor = legCount === 4 || (legCount === 3 && rng.chance(0.65));
  const withExternal = legCount === 4 || (legCount === 3 && !withSupervisor);
  // --bad-share is per conference: a troubled conference has one leg with a quality problem.
  const present = [0, 1, ...(withSupervisor ? [2] : []), ...(withExternal ? [3] : [])];
  const weights = [45, 35, 10, 10];
  const troubled = rng.chance(options.badShare)
    ? rng.weighted(present.map((leg) => [leg, weights[leg] ?? 0] as const))
    : undefined;

  // The customer calls in, hears the IVR and joins; startConferenceOnEnter=false keeps them on hold music.
  const customer = draft(rng, index, site, {
    leg: 0,
    label: 'customer',
    bad: troubled === 0,
    callType: rng.weighted<CallType>([
      ['carrier', 80],
      ['sip', 20],
    ]),
    direction: 'inbound',
    createdMs: 0,
    queueMs: 0,
    pddMs: [600, 3500],
    ringS: [1, 4],
    joinLagMs: [2000, 15_000],
  });
  const createMs = customer.joinMs;
  // The task waits for an agent, then the Participants API dials the agent's client.
  const agent = draft(rng, index, site, {
    leg: 1,
    label: 'agent',
    bad: troubled === 1,
    callType: 'client',
    direction: 'outbound_api',
    createdMs: createMs + rng.int(3000, 45_000),
    queueMs: rng.chance(0.3) ? rng.int(50, 1500) : 0,
    pddMs: [600, 2000],
    ringS: [1, 6],
    joinLagMs: [300, 1500],
    clientName: `agent_${rng.pick(AGENT_NAMES)}`,
  });
  if (rng.chance(START_FAILURE_SHARE))
    return failedStart(seed, rng, { index, site, conferenceSid, friendlyName, customer, agent });

  // Conversation: log-normal, median ~150 s; long enough for a supervisor or a third party to come and go.
  const startMs = agent.joinMs;
  const typical = Math.round(Math.exp(rng.normal(Math.log(150), 0.7)));
  const talkMs = Math.min(LATEST_END_MS - startMs, Math.max(legCount > 2 ? 120 : 30, typical) * SECOND);
  const talkEndMs = startMs + talkMs;
  const extras: LegDraft[] = [];
  if (withSupervisor)
    extras.push(
      draft(rng, index, site, {
        leg: 2,
        label: 'supervisor',
        bad: troubled === 2,
        callType: 'client',
        direction: 'outbound_api',
        createdMs: startMs + Math.round(talkMs * rng.between(0.1, 0.35)),
        queueMs: 0,
        pddMs: [600, 2000],
        ringS: [1, 4],
        joinLagMs: [300, 1500],
        clientName: `supervisor_${rng.pick(AGENT_NAMES)}`,
      }),
    );
  if (withExternal)
    // A specialist or an interpreter on the phone network, added by the agent.
    extras.push(
      draft(rng, index, site, {
        leg: 3,
        label: 'external',
        bad: troubled === 3,
        callType: 'carrier',
        direction: 'outbound_api',
        createdMs: startMs + Math.round(talkMs * rng.between(0.2, 0.45)),
        queueMs: rng.chance(0.3) ? rng.int(50, 1500) : 0,
        pddMs: [1000, 3500],
        ringS: [3, 12],
        joinLagMs: [200, 800],
      }),
    );
  // They join by 45 % of a conversation of at least 120 s plus ~20 s of dialling, so 20 s fit.
  for (const x of extras) {
    const leaves = x.joinMs + Math.max(20 * SECOND, Math.round((talkEndMs - x.joinMs) * rng.between(0.3, 1.1)));
    x.leavesMs = leaves < talkEndMs ? leaves : undefined;
  }

  const endReason = rng.weighted<ConferenceEndReason>([
    ['participant_with_end_conference_on_exit_left', 55],
    ['last_participant_left', 35],
    ['conference_ended_via_api', 10],
  ]);
  // Who ends it: with endConferenceOnExit the customer hanging up or the agent; otherwise the agent, last.
  let ender: LegDraft | undefined;
  let endMs = talkEndMs;
  if (endReason === 'participant_with_end_conference_on_exit_left') {
    ender = rng.chance(0.6) ? customer : agent;
    ender.leavesMs = talkEndMs;
  } else if (endReason === 'last_participant_left') {
    customer.leavesMs = talkEndMs;
    for (const x of extras) x.leavesMs ??= talkEndMs + rng.int(500, 1500);
    // The agent wraps up and leaves last.
    endMs = talkEndMs + rng.int(2000, 20_000);
    agent.leavesMs = endMs;
    ender = agent;
  }
  const drafts = [customer, agent, ...extras];
  const participants = drafts.map((d) => {
    const leaveMs = d.leavesMs ?? endMs;
    const call = finishLeg(seed, rng, d, leaveMs, d.leavesMs !== undefined);
    return { d, leaveMs, call };
  });
  const agentCallSid = participants[1]?.call.callSid;
  const planned = participants.map(({ d, leaveMs, call }) =>
    participantOf(rng, { ...d, ...d.course, leaveMs }, call, {
      startMs,
      agentCallSid,
      endsOnExit: endReason === 'participant_with_end_conference_on_exit_left' && d === ender,
    }),
  );
  return {
    seed,
    index,
    conferenceSid,
    accountSid: planned[0]?.call.accountSid ?? '',
    friendlyName,
    calls: planned.map((p) => p.call),
    participants: planned,
    createMs,
    startMs,
    endMs,
    status: 'completed',
    endReason,
    endedBy: ender === undefined ? undefined : planned[drafts.indexOf(ender)]?.call.callSid,
    mixerRegion: site.region,
    mixerRegionRequested: rng.chance(0.3) ? site.region : undefined,
    recordingEnabled: rng.chance(0.4),
    maxConcurrent: maxConcurrent(planned),
    tags: conferenceTags(planned),
    detectedIssues: {
      call_quality: planned.filter((p) => p.inbound.tags.length + p.outbound.tags.length > 0).length,
      region_configuration: 0,
      participant_behavior: 0,
    },
    lengthMs: Math.max(...planned.map((p) => p.call.endMs)),
  };
}

/** The agent's leg fails (busy, unreachable): the customer waits alone, gives up, and it never starts. */
function failedStart(
  seed: number,
  rng: Rng,
  c: { index: number; site: Site; conferenceSid: string; friendlyName: string; customer: LegDraft; agent: LegDraft },
): ConferencePlan {
  const failure = rng.weighted(FAILURES);
  const failedDial = planLeg(seed, {
    ...c.agent.course,
    flavour: 'failed',
    failure,
    preConnectSeconds: Math.ceil(c.agent.course.pddMs / 1000) + rng.int(0, 1),
    connectSeconds: undefined,
    disconnectedBy: undefined,
    joined: false,
  });
  const leaveMs = failedDial.endMs + rng.int(5000, 30_000);
  const call = finishLeg(seed, rng, c.customer, leaveMs, true);
  const customer = participantOf(rng, { ...c.customer, ...c.customer.course, leaveMs }, call, {
    startMs: undefined,
    agentCallSid: undefined,
    endsOnExit: false,
  });
  return {
    seed,
    index: c.index,
    conferenceSid: c.conferenceSid,
    accountSid: call.accountSid,
    friendlyName: c.friendlyName,
    calls: [call, failedDial],
    participants: [customer],
    createMs: c.customer.joinMs,
    startMs: undefined,
    endMs: leaveMs,
    status: 'not_started',
    endReason: 'last_participant_left',
    endedBy: call.callSid,
    mixerRegion: c.site.region,
    mixerRegionRequested: undefined,
    recordingEnabled: false,
    maxConcurrent: 1,
    // As in Twilio's own not-started example: start_failure with no_concurrent_participants.
    tags: ['start_failure', 'no_concurrent_participants'],
    detectedIssues: { call_quality: 0, region_configuration: 0, participant_behavior: 1 },
    lengthMs: Math.max(call.endMs, failedDial.endMs),
  };
}
