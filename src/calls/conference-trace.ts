// Builds a conference's trace (pure): one root span for the conference, one child span per participant
// (join to leave), each linked to the CallSid trace of its leg, and the spans that carry a call's link
// back. Trace id from the ConferenceSid as a call's is from its CallSid (ids.ts), so late data and every
// replica land in the same trace. Span links: https://opentelemetry.io/docs/concepts/signals/traces/#span-links
import type { ConferenceSummaryRecord, ParticipantQuality, ParticipantSummaryRecord } from '../events/types.js';
import { put } from './attributes.js';
import type { ConferenceLink, FinaliseReason } from './call-state.js';
import type { ConferenceState } from './conference-state.js';
import { lateSpanIdFor, participantSpanIdFor, rootSpanIdFor, traceIdFor } from './ids.js';
import { redactPii } from './redact.js';
import type { Attrs, SpanData, SpanEventData, SpanLinkData } from './span-data.js';
import type { BuildOptions } from './trace-builder.js';

export const CONFERENCE_SPAN_NAME = 'twilio.voice.conference';
export const PARTICIPANT_SPAN_NAME = 'twilio.voice.conference.participant';
export const CONFERENCE_LATE_SPAN_NAME = 'twilio.voice.conference.late';
/** A late child span in a call's trace carrying the link to the conference the call was a leg of. */
export const CALL_CONFERENCE_SPAN_NAME = 'twilio.voice.call.conference';

const UNSET: SpanData['status'] = { code: 'unset', message: undefined };

/** User-chosen text (friendly name, label): phone numbers and IPs in it are redacted unless EXPOSE_PII. */
function text(value: string | undefined, exposePii: boolean): string | undefined {
  return value === undefined || exposePii ? value : redactPii(value);
}

const ms = (seconds: number | undefined): number | undefined =>
  seconds === undefined ? undefined : Math.round(seconds * 1e6) / 1e3;

export function conferenceSummaryAttributes(s: ConferenceSummaryRecord, exposePii: boolean): Attrs {
  const a: Attrs = {};
  put(a, 'twilio.conference.status', s.status);
  put(a, 'twilio.conference.end_reason', s.endReason);
  put(a, 'twilio.conference.ended_by', s.endedBy);
  put(a, 'twilio.conference.mixer_region', s.mixerRegion);
  put(a, 'twilio.conference.mixer_region_requested', s.mixerRegionRequested);
  put(a, 'twilio.conference.max_participants', s.maxParticipants);
  put(a, 'twilio.conference.max_concurrent_participants', s.maxConcurrentParticipants);
  put(a, 'twilio.conference.unique_participants', s.uniqueParticipants);
  put(a, 'twilio.conference.duration', s.durationSeconds);
  put(a, 'twilio.conference.connect_duration', s.connectDurationSeconds);
  put(a, 'twilio.conference.recording_enabled', s.recordingEnabled);
  put(a, 'twilio.conference.processing_state', s.processingState);
  put(a, 'twilio.conference.friendly_name', text(s.friendlyName, exposePii));
  put(a, 'twilio.conference.tags', s.tags.length > 0 ? s.tags : undefined);
  for (const [issue, n] of Object.entries(s.detectedIssues)) put(a, `twilio.conference.detected_issues.${issue}`, n);
  return a;
}

function qualityAttributes(a: Attrs, prefix: string, q: ParticipantQuality | undefined): void {
  if (q === undefined) return;
  put(a, `${prefix}.mos`, q.mos);
  put(a, `${prefix}.jitter_avg_ms`, ms(q.jitterAvgSeconds));
  put(a, `${prefix}.jitter_max_ms`, ms(q.jitterMaxSeconds));
  put(a, `${prefix}.latency_avg_ms`, ms(q.latencyAvgSeconds));
  put(a, `${prefix}.latency_max_ms`, ms(q.latencyMaxSeconds));
  put(a, `${prefix}.packets_received`, q.packetsReceived);
  put(a, `${prefix}.packets_lost`, q.packetsLost);
  put(a, `${prefix}.packet_loss_ratio`, q.packetLossRatio);
  put(a, `${prefix}.tags`, q.tags.length > 0 ? q.tags : undefined);
}

export function participantAttributes(p: ParticipantSummaryRecord, exposePii: boolean): Attrs {
  const a: Attrs = { 'twilio.conference_sid': p.conferenceSid };
  put(a, 'twilio.participant_sid', p.participantSid);
  put(a, 'twilio.call_sid', p.callSid);
  put(a, 'twilio.account_sid', p.accountSid);
  put(a, 'twilio.participant.label', text(p.label, exposePii));
  put(a, 'twilio.participant.call_direction', p.callDirection);
  put(a, 'twilio.participant.call_status', p.callStatus);
  put(a, 'twilio.participant.call_type', p.callType);
  put(a, 'twilio.participant.country_code', p.countryCode);
  put(a, 'twilio.participant.is_moderator', p.isModerator);
  put(a, 'twilio.participant.is_coach', p.isCoach);
  put(
    a,
    'twilio.participant.coached_participants',
    p.coachedParticipants.length > 0 ? p.coachedParticipants : undefined,
  );
  put(a, 'twilio.participant.region', p.participantRegion);
  put(a, 'twilio.participant.conference_region', p.conferenceRegion);
  put(a, 'twilio.participant.jitter_buffer_size', p.jitterBufferSize);
  put(a, 'twilio.participant.duration', p.durationSeconds);
  put(a, 'twilio.participant.outbound_queue_length', p.outboundQueueLength);
  put(a, 'twilio.participant.outbound_time_in_queue_ms', ms(p.outboundTimeInQueueSeconds));
  put(a, 'twilio.participant.processing_state', p.processingState);
  for (const [key, value] of Object.entries(p.properties))
    put(a, `twilio.participant.properties.${key}`, typeof value === 'string' ? text(value, exposePii) : value);
  qualityAttributes(a, 'twilio.participant.inbound', p.inbound);
  qualityAttributes(a, 'twilio.participant.outbound', p.outbound);
  if (exposePii) {
    put(a, 'twilio.participant.from', p.from);
    put(a, 'twilio.participant.to', p.to);
  }
  return a;
}

/** The participant's own leg and the legs it coached, each the root span of that call's trace. */
function participantLinks(p: ParticipantSummaryRecord): SpanLinkData[] {
  const links: SpanLinkData[] = [];
  if (p.callSid !== undefined) {
    links.push({
      traceId: traceIdFor(p.callSid),
      spanId: rootSpanIdFor(p.callSid),
      attributes: { 'twilio.link.kind': 'conference_leg', 'twilio.call_sid': p.callSid },
    });
  }
  for (const coached of p.coachedParticipants) {
    links.push({
      traceId: traceIdFor(coached),
      spanId: rootSpanIdFor(coached),
      attributes: { 'twilio.link.kind': 'coached_call', 'twilio.call_sid': coached },
    });
  }
  return links;
}

/** Join to leave; from the duration when one end is missing; else the conference's own start. */
function participantTimes(p: ParticipantSummaryRecord, fallback: number): { startMs: number; endMs: number } {
  const durationMs = p.durationSeconds === undefined ? undefined : p.durationSeconds * 1000;
  const start =
    p.joinTime ?? (p.leaveTime !== undefined && durationMs !== undefined ? p.leaveTime - durationMs : undefined);
  const end = p.leaveTime ?? (start !== undefined && durationMs !== undefined ? start + durationMs : undefined);
  const startMs = start ?? end ?? fallback;
  return { startMs, endMs: Math.max(startMs, end ?? startMs) };
}

function actionEvents(p: ParticipantSummaryRecord): SpanEventData[] {
  return p.actions.map((action) => ({
    name: `participant.${action.name}`,
    timeMs: action.timeMs,
    attributes: { 'twilio.participant.action': action.name },
  }));
}

export function buildParticipantSpan(
  p: ParticipantSummaryRecord,
  key: string,
  fallbackStartMs: number,
  opts: BuildOptions,
  late = false,
): SpanData {
  const { startMs, endMs } = participantTimes(p, fallbackStartMs);
  const attributes = participantAttributes(p, opts.exposePii);
  if (late) attributes['twilio.late'] = true;
  return {
    traceId: traceIdFor(p.conferenceSid),
    spanId: participantSpanIdFor(p.conferenceSid, key),
    parentSpanId: rootSpanIdFor(p.conferenceSid),
    name: PARTICIPANT_SPAN_NAME,
    startMs,
    endMs,
    attributes,
    events: actionEvents(p),
    droppedEvents: 0,
    links: participantLinks(p),
    status: p.callStatus === 'fail' ? { code: 'error', message: 'participant call failed' } : UNSET,
  };
}

function lifecycleEvents(s: ConferenceSummaryRecord | undefined): SpanEventData[] {
  const events: SpanEventData[] = [];
  if (s?.createTime !== undefined) events.push({ name: 'conference.created', timeMs: s.createTime, attributes: {} });
  if (s?.startTime !== undefined) events.push({ name: 'conference.started', timeMs: s.startTime, attributes: {} });
  if (s?.endTime !== undefined) {
    const attributes: Attrs = {};
    put(attributes, 'twilio.conference.end_reason', s.endReason);
    put(attributes, 'twilio.conference.ended_by', s.endedBy);
    events.push({ name: 'conference.ended', timeMs: s.endTime, attributes });
  }
  return events.sort((a, b) => a.timeMs - b.timeMs);
}

/** The conference root span and one span per participant, as they go out at finalisation. */
export function buildConferenceSpans(state: ConferenceState, reason: FinaliseReason, opts: BuildOptions): SpanData[] {
  const s = state.summary;
  const joins = state.participants.map((e) => e.summary.joinTime).filter((t): t is number => t !== undefined);
  const leaves = state.participants.map((e) => e.summary.leaveTime).filter((t): t is number => t !== undefined);
  const startMs =
    s?.createTime ??
    s?.startTime ??
    (joins.length > 0 ? Math.min(...joins) : undefined) ??
    state.earliestAt ??
    state.lastActivityAt;
  const end = s?.endTime ?? (leaves.length > 0 ? Math.max(...leaves) : undefined) ?? state.latestAt ?? startMs;
  const attributes: Attrs = {
    'twilio.conference_sid': state.conferenceSid,
    'twilio.finalised_by': reason,
    'twilio.conference.summary.state': s?.stage ?? 'none',
    'twilio.conference.participants_reported': state.participants.length,
  };
  put(
    attributes,
    'twilio.conference.participants_dropped',
    state.droppedParticipants > 0 ? state.droppedParticipants : undefined,
  );
  put(attributes, 'twilio.account_sid', s?.accountSid ?? state.accountSid);
  Object.assign(attributes, s === undefined ? {} : conferenceSummaryAttributes(s, opts.exposePii));
  const root: SpanData = {
    traceId: traceIdFor(state.conferenceSid),
    spanId: rootSpanIdFor(state.conferenceSid),
    parentSpanId: undefined,
    name: CONFERENCE_SPAN_NAME,
    startMs,
    endMs: Math.max(startMs, end),
    attributes,
    events: lifecycleEvents(s),
    droppedEvents: 0,
    status: conferenceStatus(s),
  };
  const participants = state.participants.map((e) => buildParticipantSpan(e.summary, e.key, startMs, opts));
  return [root, ...participants];
}

/** A conference that failed to start is an error (Twilio's start_failure tag). */
function conferenceStatus(s: ConferenceSummaryRecord | undefined): SpanData['status'] {
  return s?.tags.includes('start_failure') === true ? { code: 'error', message: 'conference start failure' } : UNSET;
}

/** A conference summary newer than the one the root span was built from. */
export function buildLateConferenceSummarySpan(
  s: ConferenceSummaryRecord,
  cloudEventId: string,
  receivedAt: number,
  opts: BuildOptions,
): SpanData {
  const at = s.endTime ?? receivedAt;
  const attributes: Attrs = {
    'twilio.conference_sid': s.conferenceSid,
    'twilio.late': true,
    'twilio.late.kind': 'conference-summary',
    'twilio.conference.summary.state': s.stage,
    ...conferenceSummaryAttributes(s, opts.exposePii),
  };
  put(attributes, 'twilio.account_sid', s.accountSid);
  return {
    traceId: traceIdFor(s.conferenceSid),
    spanId: lateSpanIdFor(s.conferenceSid, cloudEventId),
    parentSpanId: rootSpanIdFor(s.conferenceSid),
    name: CONFERENCE_LATE_SPAN_NAME,
    startMs: at,
    endMs: at,
    attributes,
    events: [],
    droppedEvents: 0,
    status: conferenceStatus(s),
  };
}

/** The call root span's links to the participant spans of the conferences it was a leg of. */
export function conferenceLinks(links: readonly ConferenceLink[] | undefined): SpanLinkData[] {
  return (links ?? []).map((l) => {
    const attributes: Attrs = { 'twilio.link.kind': 'conference', 'twilio.conference_sid': l.conferenceSid };
    put(attributes, 'twilio.participant_sid', l.participantSid);
    return {
      traceId: traceIdFor(l.conferenceSid),
      spanId: participantSpanIdFor(l.conferenceSid, l.participantKey),
      attributes,
    };
  });
}

/** In the call's trace, for a call finalised before its participant summary came: a late span with the link. */
export function buildConferenceLinkSpan(
  p: ParticipantSummaryRecord & { callSid: string },
  link: ConferenceLink,
  cloudEventId: string,
  receivedAt: number,
  opts: BuildOptions,
): SpanData {
  const { startMs, endMs } = participantTimes(p, receivedAt);
  const attributes: Attrs = {
    'twilio.call_sid': p.callSid,
    'twilio.late': true,
    'twilio.late.kind': 'conference-link',
    'twilio.conference_sid': p.conferenceSid,
  };
  put(attributes, 'twilio.participant_sid', p.participantSid);
  put(attributes, 'twilio.participant.label', text(p.label, opts.exposePii));
  return {
    traceId: traceIdFor(p.callSid),
    spanId: lateSpanIdFor(p.callSid, cloudEventId),
    parentSpanId: rootSpanIdFor(p.callSid),
    name: CALL_CONFERENCE_SPAN_NAME,
    startMs,
    endMs,
    attributes,
    events: [],
    droppedEvents: 0,
    links: conferenceLinks([link]),
    status: UNSET,
  };
}
