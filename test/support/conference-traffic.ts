// The tests' one builder of conference CloudEvents (metrics, traces, ops queries): Twilio's published
// Conference Insights examples (the fixtures in test/fixtures/conference-summary and
// conference-participant-summary, see test/fixtures/README.md) moved to chosen sids and one timeline,
// with fresh CloudEvent ids. A conference has legs; each leg is a call of its own (CallSid), so the
// call's events and summaries can be sent too, from the call builders of span-tree.ts, and the two
// traces linked.
import { createHash } from 'node:crypto';
import { ACCOUNT_SID, callSid, eventId } from './events.js';
import { loadFixtureEvents } from './fixtures.js';
import { T0, gatewayEvent, iso, summaryFor } from './span-tree.js';

type CloudEvent = Record<string, unknown>;

const hex32 = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 32);
export const conferenceSid = (name: string) => `CF${hex32(`conference:${name}`)}`;
export const participantSid = (name: string) => `CP${hex32(`participant:${name}`)}`;

/** The conference's trace id: the ConferenceSid's 32 hex digits (as a call's is its CallSid's). */
export const conferenceTraceId = (sid: string) => sid.slice(2).toLowerCase();

function fromFixture(fixture: string, data: Record<string, unknown>, type?: string, time?: number): CloudEvent {
  const original = loadFixtureEvents(fixture)[0];
  if (original === undefined) throw new Error(`fixture ${fixture} is empty`);
  const ce: CloudEvent = structuredClone(original);
  const raw = ce['data'];
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
  ce['data'] = { ...parsed, account_sid: ACCOUNT_SID, ...data };
  const conf = typeof data['conference_sid'] === 'string' ? data['conference_sid'] : 'conference';
  ce['id'] = eventId(conf);
  if (type !== undefined) ce['type'] = type;
  if (time === undefined) delete ce['time'];
  else ce['time'] = iso(time);
  if (typeof ce['source'] === 'string') ce['source'] = ce['source'].replace(/CF[0-9a-fA-F]{32}/, conf);
  return ce;
}

export interface ConferenceSummaryOptions {
  /** epoch ms; null sends JSON null (a partial has no end yet). */
  create?: number;
  start?: number | null;
  end?: number | null;
  uniqueParticipants?: number;
  maxConcurrent?: number;
  status?: string;
  endReason?: string | null;
  endedBy?: string | null;
  tags?: string[] | null;
  /** Further `data` fields. */
  data?: Record<string, unknown>;
}

const isoOrNull = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : iso(ms));

/** A conference summary (shape of Twilio's REST example) of `sid` at the given stage. */
export function conferenceSummary(
  sid: string,
  stage: 'partial' | 'complete',
  opts: ConferenceSummaryOptions = {},
): CloudEvent {
  const create = opts.create ?? T0;
  const start = opts.start === undefined ? create + 2_000 : opts.start;
  const end = opts.end === undefined ? (stage === 'complete' ? create + 150_000 : null) : opts.end;
  const partial = stage === 'partial';
  const data: Record<string, unknown> = {
    conference_sid: sid,
    create_time: iso(create),
    start_time: isoOrNull(start),
    end_time: isoOrNull(end),
    duration_seconds: end === null ? null : Math.round((end - create) / 1000),
    connect_duration_seconds: end === null || start === null ? null : Math.round((end - start) / 1000),
    status: opts.status ?? (partial ? 'in_progress' : 'completed'),
    processing_state: partial ? 'in_progress' : 'complete',
    unique_participants: opts.uniqueParticipants ?? 3,
    max_concurrent_participants: opts.maxConcurrent ?? opts.uniqueParticipants ?? 3,
    end_reason: opts.endReason === undefined ? (partial ? null : 'last_participant_left') : opts.endReason,
    ended_by: opts.endedBy === undefined ? null : opts.endedBy,
    tags: opts.tags === undefined ? (partial ? null : []) : opts.tags,
    detected_issues: partial ? null : { call_quality: 0, region_configuration: 0, participant_behavior: 0 },
    ...opts.data,
  };
  return fromFixture(
    'conference-summary/complete-rest-example.json',
    data,
    `com.twilio.voice.insights.conference-summary.${stage}`,
    end === null ? create + 5_000 : end + 1_000,
  );
}

export interface Leg {
  /** Names the leg's CallSid (callSid(name)) and ParticipantSid. */
  name: string;
  join: number;
  leave: number;
  label?: string;
  callType?: 'carrier' | 'client' | 'sip';
  direction?: 'inbound' | 'outbound';
  /** Twilio's `events`: action -> Unix epoch numbers (seconds or ms, as the test chooses). */
  actions?: Record<string, number[]>;
  coaching?: string[];
  moderator?: boolean;
  /** Further `data` fields. */
  data?: Record<string, unknown>;
}

export const legCallSid = (leg: Pick<Leg, 'name'>) => callSid(leg.name);
/** The trace id of the leg's call: its CallSid's 32 hex digits. */
export const legTraceId = (leg: Pick<Leg, 'name'>) => legCallSid(leg).slice(2).toLowerCase();
export const legParticipantSid = (leg: Pick<Leg, 'name'>) => participantSid(leg.name);

/** The leg's participant summary (shape of Twilio's REST example), sent when it leaves. */
export function participantSummary(conference: string, leg: Leg, type = 'conference-participant-summary'): CloudEvent {
  const data: Record<string, unknown> = {
    conference_sid: conference,
    participant_sid: legParticipantSid(leg),
    call_sid: legCallSid(leg),
    label: leg.label ?? null,
    call_type: leg.callType ?? 'carrier',
    call_direction: leg.direction ?? 'inbound',
    join_time: iso(leg.join),
    leave_time: iso(leg.leave),
    duration_seconds: Math.round((leg.leave - leg.join) / 1000),
    is_coach: (leg.coaching ?? []).length > 0,
    coached_participants: leg.coaching ?? null,
    is_moderator: leg.moderator ?? false,
    events: leg.actions ?? null,
    ...leg.data,
  };
  return fromFixture(
    'conference-participant-summary/complete-rest-example.json',
    data,
    `com.twilio.voice.insights.${type}.complete`,
    leg.leave + 1_000,
  );
}

/** The leg's own call: a gateway event at join and the complete carrier summary over join..leave. */
export function legCall(leg: Leg): CloudEvent[] {
  const sid = legCallSid(leg);
  return [
    gatewayEvent(sid, 'call.answered', leg.join),
    summaryFor('call-summary/complete-carrier-call.json', sid, {
      processingVersion: 4,
      start: leg.join,
      end: leg.leave,
    }),
  ];
}

/** A copy of `event` under a new CloudEvent id (Twilio re-sent it as a new event). */
export function withFreshId(event: CloudEvent): CloudEvent {
  return { ...structuredClone(event), id: eventId('resent') };
}

export interface ThreeLegConference {
  sid: string;
  legs: [Leg, Leg, Leg];
  partial: CloudEvent;
  complete: CloudEvent;
  participants: [CloudEvent, CloudEvent, CloudEvent];
  start: number;
  end: number;
}

/**
 * A contact-center conference: the customer (carrier, inbound), the agent (client, mutes and holds the
 * customer: its actions in epoch seconds) and a supervisor coaching the agent (SIP, coaching actions in
 * epoch ms). Created at T0 + offsetMs, ends 150 s later when the last participant left.
 */
export function threeLegConference(name: string, offsetMs = 0): ThreeLegConference {
  const sid = conferenceSid(name);
  const t = T0 + offsetMs;
  const s = (ms: number) => (t + ms) / 1000;
  const customer: Leg = {
    name: `${name}-customer`,
    join: t + 2_000,
    leave: t + 150_000,
    label: 'customer',
    // Dialled in, not added through the Participants API: no outbound queue.
    data: { outbound_queue_length: null, outbound_time_in_queue: null },
  };
  const agent: Leg = {
    name: `${name}-agent`,
    join: t + 4_000,
    leave: t + 140_000,
    label: 'worker',
    callType: 'client',
    direction: 'outbound',
    moderator: true,
    actions: { mute: [s(20_000)], unmute: [s(25_000)], hold: [s(60_000)], unhold: [s(90_000)] },
    // A home-office agent on Wi-Fi: Twilio's units (jitter and latency in ms, loss in %).
    data: {
      metrics: {
        inbound: {
          total_packets_lost: 170,
          total_packets_received: 6630,
          packet_loss_percentage: 2.5,
          jitter: { avg: 31.5, max: 88.25 },
          latency: { avg: 120, max: 310 },
          mos: 3.61,
          tags: ['high_jitter'],
        },
        outbound: {
          total_packets_lost: 0,
          total_packets_received: 6800,
          packet_loss_percentage: 0,
          jitter: { avg: 1.5, max: 4 },
          latency: { avg: 40, max: 55 },
          mos: 4.38,
        },
      },
    },
  };
  const supervisor: Leg = {
    name: `${name}-supervisor`,
    join: t + 30_000,
    leave: t + 120_000,
    label: 'supervisor',
    callType: 'sip',
    direction: 'outbound',
    coaching: [legCallSid(agent)],
    actions: { coaching: [t + 31_000], coaching_stopped: [t + 110_250] },
  };
  const legs: [Leg, Leg, Leg] = [customer, agent, supervisor];
  return {
    sid,
    legs,
    partial: conferenceSummary(sid, 'partial', { create: t, uniqueParticipants: 2 }),
    complete: conferenceSummary(sid, 'complete', {
      create: t,
      end: t + 150_000,
      uniqueParticipants: 3,
      endedBy: legCallSid(customer),
    }),
    participants: [
      participantSummary(sid, customer),
      participantSummary(sid, agent),
      participantSummary(sid, supervisor),
    ],
    start: t,
    end: t + 150_000,
  };
}
