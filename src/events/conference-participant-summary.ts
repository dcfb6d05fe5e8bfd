// `com.twilio.voice.insights.conference-participant-summary.complete` (and the Conference Insights
// guide's spelling `participant-summary.complete`; schema VoiceInsights.ConferenceParticipantSummary
// v1/v2) -> ParticipantSummaryRecord: one leg of a conference, sent when it leaves (reference section 7).
// Fields: https://www.twilio.com/docs/voice/voice-insights/api/conference/conference-participant-summary-resource
// Only conference_sid is required: it names the trace the participant belongs to.
import { z } from 'zod';
import type { Converter } from './family.js';
import type { ParticipantAction, ParticipantQuality, ParticipantSummaryRecord } from './types.js';
import {
  count,
  isoTimestamp,
  lenient,
  msToSeconds,
  num,
  optBoolean,
  optId,
  optLowerString,
  optString,
  parseIsoTimestamp,
  percentToRatio,
  requiredId,
  tagList,
  toFieldIssues,
} from './fields.js';

/** `{avg, max}` in ms (jitter, latency), or a bare number for avg. */
const msStat = lenient(
  z.union([
    z.object({ avg: msToSeconds, max: msToSeconds }),
    msToSeconds.transform((avg) => ({ avg, max: undefined })),
  ]),
);

/** MOS: a number in the REST examples, `{avg, max}` (MetricStats) in the event schema head. */
const mosValue = lenient(z.union([num, z.object({ avg: num, max: num }).transform((m) => m.avg ?? m.max)]));

const directionMetrics = z.object({
  total_packets_lost: count,
  total_packets_received: count,
  packet_loss_percentage: percentToRatio,
  jitter: msStat,
  latency: msStat,
  mos: mosValue,
  tags: lenient(tagList).transform((tags) => tags ?? []),
});

/** Property keys kept on the span (start_conference_on_enter, beep_on_exit, ...): identifiers only. */
const PROPERTY_KEY = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_PROPERTIES = 30;
/** Participant actions kept per leg; a leg that holds and unholds more often is still one span. */
export const MAX_ACTIONS = 200;
/** Action names are Twilio's (hold, unhold, mute, coaching, modify_beep, ...): identifiers only. */
const ACTION_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** Below this an epoch number is seconds, above it milliseconds (1e11 s is in the year 5138). */
const EPOCH_MS_THRESHOLD = 1e11;

const propertiesMap = lenient(z.record(z.string(), z.unknown())).transform((raw) => {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(raw ?? {})) {
    if (Object.keys(out).length >= MAX_PROPERTIES) break;
    if (!PROPERTY_KEY.test(key)) continue;
    if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[key] = value;
    else if (typeof value === 'string' && value.length <= 64 && value.trim() !== '') out[key] = value.trim();
  }
  return out;
});

/**
 * One action time: Twilio documents Unix timestamps (the REST example shows milliseconds, the event
 * schema seconds), so both are read; an ISO string is accepted too. Anything else is dropped.
 */
function actionTime(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^\d{1,15}(?:\.\d+)?$/.test(trimmed)) return actionTime(Number(trimmed));
    return parseIsoTimestamp(trimmed);
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return Math.round(value < EPOCH_MS_THRESHOLD ? value * 1000 : value);
}

/** `events`: `{hold: [t1, t2], unhold: [...], mute: [...]}` -> actions sorted by time (then name). */
const actions = lenient(z.record(z.string(), z.unknown())).transform((raw): ParticipantAction[] => {
  const out: ParticipantAction[] = [];
  for (const [name, times] of Object.entries(raw ?? {})) {
    if (!ACTION_NAME.test(name)) continue;
    for (const value of Array.isArray(times) ? times : [times]) {
      const timeMs = actionTime(value);
      if (timeMs !== undefined) out.push({ name, timeMs });
    }
  }
  out.sort((a, b) => a.timeMs - b.timeMs || a.name.localeCompare(b.name));
  return out.slice(0, MAX_ACTIONS);
});

export const participantSummaryDataSchema = z.object({
  conference_sid: requiredId,
  participant_sid: optId,
  call_sid: optId,
  account_sid: optString,
  label: optString,
  call_direction: optLowerString,
  from: optString,
  to: optString,
  call_status: optLowerString,
  // The event schema names it call_state, like the call summary (reference section 7).
  call_state: optLowerString,
  country_code: optString,
  is_moderator: optBoolean,
  join_time: isoTimestamp,
  leave_time: isoTimestamp,
  duration_seconds: count,
  outbound_queue_length: count,
  // Documented as seconds, but the REST examples show 965 and 3361 for legs of about 64 s: it is
  // milliseconds, like the call summary's queue_time (reference section 8 item 7).
  outbound_time_in_queue: msToSeconds,
  jitter_buffer_size: optLowerString,
  is_coach: optBoolean,
  coached_participants: lenient(z.array(z.string().max(64)).max(100)).transform((sids) =>
    (sids ?? []).map((sid) => sid.trim()).filter((sid) => sid !== ''),
  ),
  participant_region: optLowerString,
  conference_region: optLowerString,
  call_type: optLowerString,
  processing_state: optLowerString,
  properties: propertiesMap,
  events: actions,
  metrics: lenient(z.object({ inbound: directionMetrics.nullish(), outbound: directionMetrics.nullish() })),
});

type DirectionData = z.output<typeof directionMetrics>;

function toQuality(raw: DirectionData | null | undefined): ParticipantQuality | undefined {
  if (raw == null) return undefined;
  return {
    packetsReceived: raw.total_packets_received,
    packetsLost: raw.total_packets_lost,
    packetLossRatio: raw.packet_loss_percentage,
    jitterAvgSeconds: raw.jitter?.avg,
    jitterMaxSeconds: raw.jitter?.max,
    latencyAvgSeconds: raw.latency?.avg,
    latencyMaxSeconds: raw.latency?.max,
    // 0 is no score (MOS is 1..~4.5).
    mos: raw.mos === 0 ? undefined : raw.mos,
    tags: raw.tags,
  };
}

export const convertParticipantSummary: Converter<ParticipantSummaryRecord> = (envelope) => {
  const parsed = participantSummaryDataSchema.safeParse(envelope.data);
  if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
  const d = parsed.data;
  return {
    ok: true,
    value: {
      kind: 'participant-summary',
      conferenceSid: d.conference_sid,
      participantSid: d.participant_sid,
      callSid: d.call_sid,
      accountSid: d.account_sid,
      label: d.label,
      callDirection: d.call_direction,
      from: d.from,
      to: d.to,
      callStatus: d.call_status ?? d.call_state,
      countryCode: d.country_code,
      isModerator: d.is_moderator,
      joinTime: d.join_time,
      leaveTime: d.leave_time,
      durationSeconds: d.duration_seconds,
      outboundQueueLength: d.outbound_queue_length,
      outboundTimeInQueueSeconds: d.outbound_time_in_queue,
      jitterBufferSize: d.jitter_buffer_size,
      isCoach: d.is_coach,
      coachedParticipants: d.coached_participants,
      participantRegion: d.participant_region,
      conferenceRegion: d.conference_region,
      callType: d.call_type,
      processingState: d.processing_state,
      properties: d.properties,
      actions: d.events,
      inbound: toQuality(d.metrics?.inbound),
      outbound: toQuality(d.metrics?.outbound),
    },
  };
};
