// Builds realistic Conference Insights CloudEvents with chosen values, on the shapes of the fixtures in
// test/fixtures/conference-summary and conference-participant-summary (Twilio's REST examples, which
// the events mirror: https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-summary-resource
// and .../participant-summary-resource). SIDs derive from names, ids are unique per call.
import { createHash } from 'node:crypto';
import { ACCOUNT_SID, callSid, eventId } from './events.js';

const hex32 = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 32);
export const conferenceSid = (name: string) => `CF${hex32(`conference:${name}`)}`;
export const participantSid = (conference: string, leg: string) => `CP${hex32(`participant:${conference}:${leg}`)}`;
/** The CallSid of a conference leg, as test/support/events.ts names calls. */
export const legCallSid = (conference: string, leg: string) => callSid(`${conference}:${leg}`);

const T0 = Date.UTC(2026, 10, 24, 11, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

export interface ConferenceOptions {
  stage?: 'partial' | 'complete';
  status?: string;
  endReason?: string | null;
  tags?: string[] | null;
  /** Counted participants: the conference is finalised once this many participant summaries are in. */
  unique?: number;
  maxConcurrent?: number;
  durationSeconds?: number;
  /** Minutes after the builders' base time the conference starts; keeps conferences of a test apart. */
  startMinute?: number;
}

export function conferenceSummaryEvent(name: string, o: ConferenceOptions = {}) {
  const sid = conferenceSid(name);
  const stage = o.stage ?? 'complete';
  const start = T0 + (o.startMinute ?? 0) * 60_000;
  const duration = o.durationSeconds ?? 300;
  const end = start + duration * 1000;
  return {
    specversion: '1.0',
    type: `com.twilio.voice.insights.conference-summary.${stage}`,
    source: `/v1/Conferences/${sid}`,
    id: eventId(`conference:${name}`),
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.ConferenceSummary/2',
    datacontenttype: 'application/json',
    time: iso(stage === 'complete' ? end + 120_000 : start),
    data: {
      conference_sid: sid,
      account_sid: ACCOUNT_SID,
      friendly_name: `support-queue-${name}`,
      create_time: iso(start - 2_000),
      start_time: iso(start),
      end_time: stage === 'complete' ? iso(end) : null,
      duration_seconds: stage === 'complete' ? duration + 2 : null,
      connect_duration_seconds: stage === 'complete' ? duration : null,
      status: o.status ?? (stage === 'complete' ? 'completed' : 'in_progress'),
      max_participants: 250,
      max_concurrent_participants: o.maxConcurrent ?? o.unique ?? 3,
      unique_participants: o.unique ?? 3,
      end_reason: o.endReason === undefined ? (stage === 'complete' ? 'last_participant_left' : null) : o.endReason,
      ended_by: null,
      mixer_region: 'us1',
      mixer_region_requested: 'us1',
      recording_enabled: false,
      detected_issues: { call_quality: 0, region_configuration: 0, participant_behavior: 0 },
      tags: o.tags === undefined ? [] : o.tags,
      tag_info: null,
      processing_state: stage === 'complete' ? 'complete' : 'in_progress',
    },
  };
}

export interface StreamOptions {
  mos?: number;
  /** Average jitter, ms (Twilio's unit). */
  jitterMs?: number;
  /** Twilio's percentage, 0..100. */
  lossPercent?: number;
}

export interface LegOptions {
  /** carrier | client | sip (any string, to test values outside Twilio's list). */
  callType?: string;
  /** inbound | outbound. */
  direction?: string;
  isCoach?: boolean;
  isModerator?: boolean;
  durationSeconds?: number;
  /** outbound_time_in_queue, ms (as Twilio sends it). */
  queueMs?: number | null;
  inbound?: StreamOptions;
  outbound?: StreamOptions;
  /** Legs (names) this one coaches. */
  coaches?: string[];
  /** Seconds after the conference start the leg joins. */
  joinSecond?: number;
}

function streamMetrics(s: StreamOptions = {}) {
  return {
    total_packets_lost: Math.round(((s.lossPercent ?? 0) / 100) * 15_000),
    total_packets_received: 15_000,
    packet_loss_percentage: s.lossPercent ?? 0,
    jitter: { avg: s.jitterMs ?? 2, max: (s.jitterMs ?? 2) * 3 },
    latency: { avg: 40, max: 60 },
    mos: s.mos ?? 4.3,
  };
}

/** One leg's participant summary (the type the event-type reference page names). */
export function participantSummaryEvent(
  conference: string,
  leg: string,
  o: LegOptions = {},
  c: Pick<ConferenceOptions, 'startMinute'> = {},
) {
  const sid = conferenceSid(conference);
  const psid = participantSid(conference, leg);
  const join = T0 + (c.startMinute ?? 0) * 60_000 + (o.joinSecond ?? 0) * 1000;
  const duration = o.durationSeconds ?? 240;
  const leave = join + duration * 1000;
  return {
    specversion: '1.0',
    type: 'com.twilio.voice.insights.conference-participant-summary.complete',
    source: `/v1/Conferences/${sid}/Participants/${psid}`,
    id: eventId(`participant:${conference}:${leg}`),
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.ConferenceParticipantSummary/2',
    datacontenttype: 'application/json',
    time: iso(leave + 60_000),
    data: {
      participant_sid: psid,
      label: leg,
      conference_sid: sid,
      call_sid: legCallSid(conference, leg),
      account_sid: ACCOUNT_SID,
      call_direction: o.direction ?? 'inbound',
      from: '+14155550100',
      to: '+14155550199',
      call_status: 'completed',
      country_code: 'US',
      is_moderator: o.isModerator ?? false,
      join_time: iso(join),
      leave_time: iso(leave),
      duration_seconds: duration,
      outbound_queue_length: 0,
      outbound_time_in_queue: o.queueMs ?? null,
      jitter_buffer_size: 'large',
      is_coach: o.isCoach ?? false,
      coached_participants: (o.coaches ?? []).map((l) => legCallSid(conference, l)),
      participant_region: 'us1',
      conference_region: 'us1',
      call_type: o.callType ?? 'carrier',
      processing_state: 'complete',
      properties: { start_conference_on_enter: o.isModerator ?? false, end_conference_on_exit: false },
      events: o.isCoach === true ? { coaching: [Math.floor((join + 5_000) / 1000)] } : null,
      metrics: { inbound: streamMetrics(o.inbound), outbound: streamMetrics(o.outbound) },
    },
  };
}

/** A contact-center conference: customer (inbound carrier), agent (client, moderator), supervisor (coach). */
export const THREE_LEGS: Readonly<Record<string, LegOptions>> = {
  customer: { callType: 'carrier', direction: 'inbound', durationSeconds: 290, inbound: { mos: 4.1, jitterMs: 6 } },
  agent: {
    callType: 'client',
    direction: 'outbound',
    isModerator: true,
    durationSeconds: 280,
    queueMs: 1_500,
    joinSecond: 5,
    inbound: { mos: 3.2, jitterMs: 45, lossPercent: 6 },
  },
  supervisor: {
    callType: 'sip',
    direction: 'outbound',
    isCoach: true,
    durationSeconds: 120,
    queueMs: 800,
    joinSecond: 60,
    coaches: ['agent'],
  },
};

/** A whole conference: its complete summary and one participant summary per leg (participants first). */
export function conferenceEvents(
  name: string,
  legs: Readonly<Record<string, LegOptions>> = THREE_LEGS,
  o: ConferenceOptions = {},
) {
  const n = Object.keys(legs).length;
  return [
    ...Object.entries(legs).map(([leg, l]) => participantSummaryEvent(name, leg, l, o)),
    conferenceSummaryEvent(name, { unique: n, maxConcurrent: n, ...o }),
  ];
}
