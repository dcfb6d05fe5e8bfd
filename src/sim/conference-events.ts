// A planned conference as the Conference Insights CloudEvents Twilio Event Streams would send for it
// (reference section 7): a conference-summary.partial with the conference-start event, one
// conference-participant-summary.complete per leg with its participant-leave event, and the
// conference-summary.complete with the conference-end event. Field shapes as Twilio's Conference and
// Participant Summary examples (test/fixtures/conference-*/ hold them):
// https://www.twilio.com/docs/events/event-types/conference-insights/conference-summary and
// https://www.twilio.com/docs/events/event-types/conference-insights/conference-participant-summary
// Each leg's own call events and summaries come from callCloudEvents, as for any call.
import type { EventType } from '../events/types.js';
import { isoSeconds, iso, type CloudEvent, type EventClock, type JsonObject, type SimEvent } from './cloudevents.js';
import type { ParticipantPlan } from './conference-participant.js';
import { MAX_PARTICIPANTS, type ConferencePlan } from './conference-plan.js';
import type { ParticipantQuality } from './conference-quality.js';
import { rngFor, sid } from './random.js';

export const CONFERENCE_TYPES_SENT = {
  partial: 'com.twilio.voice.insights.conference-summary.partial',
  complete: 'com.twilio.voice.insights.conference-summary.complete',
  participant: 'com.twilio.voice.insights.conference-participant-summary.complete',
} as const satisfies Record<string, EventType>;

// The event-type pages show ConferenceSummary/2 for the complete summary and ConferenceParticipantSummary/2;
// the partial is listed without a version, so it goes as /1 (reference section 7).
const SCHEMA = {
  partial: 'https://events-schemas.twilio.com/VoiceInsights.ConferenceSummary/1',
  complete: 'https://events-schemas.twilio.com/VoiceInsights.ConferenceSummary/2',
  participant: 'https://events-schemas.twilio.com/VoiceInsights.ConferenceParticipantSummary/2',
} as const;

/** Every Conference Insights CloudEvent about this conference, each with a unique EZ id. */
export function conferenceCloudEvents(plan: ConferencePlan): SimEvent[] {
  const ids = rngFor(plan.seed, plan.index, 'conference', 'ids');
  const events: SimEvent[] = [];
  const source = `/v1/Conferences/${plan.conferenceSid}/Summary`;
  if (plan.startMs !== undefined) {
    const id = sid('EZ', ids);
    const type = CONFERENCE_TYPES_SENT.partial;
    events.push({
      id,
      type,
      atMs: plan.startMs,
      readyMs: plan.startMs,
      timing: 'conference-start',
      build: (clock) => envelope(type, source, id, SCHEMA.partial, clock, conferenceData(plan, 'partial', clock)),
    });
  }
  for (const p of plan.participants) {
    const id = sid('EZ', ids);
    const type = CONFERENCE_TYPES_SENT.participant;
    events.push({
      id,
      type,
      atMs: p.leaveMs,
      readyMs: p.leaveMs,
      timing: 'participant-leave',
      build: (clock) =>
        envelope(
          type,
          `/v1/Conferences/${plan.conferenceSid}/Participants/${p.participantSid}/Summary`,
          id,
          SCHEMA.participant,
          clock,
          participantData(plan, p, clock),
        ),
    });
  }
  const id = sid('EZ', ids);
  const type = CONFERENCE_TYPES_SENT.complete;
  events.push({
    id,
    type,
    atMs: plan.endMs,
    readyMs: plan.endMs,
    timing: 'conference-end',
    build: (clock) => envelope(type, source, id, SCHEMA.complete, clock, conferenceData(plan, 'complete', clock)),
  });
  return events;
}

function envelope(
  type: EventType,
  source: string,
  id: string,
  dataschema: string,
  clock: EventClock,
  data: JsonObject,
): CloudEvent {
  return {
    specversion: '1.0',
    type,
    source,
    id,
    dataschema,
    datacontenttype: 'application/json',
    time: iso(clock.emittedAtMs),
    data,
  };
}

/** The partial is the conference as it starts: in progress, no end, the two participants that started it. */
function conferenceData(plan: ConferencePlan, stage: 'partial' | 'complete', clock: EventClock): JsonObject {
  const at = (ms: number | undefined) => (ms === undefined ? null : isoSeconds(clock.epochMs(ms)));
  const seconds = (from: number | undefined, to: number) => (from === undefined ? 0 : Math.round((to - from) / 1000));
  const common: JsonObject = {
    conference_sid: plan.conferenceSid,
    account_sid: plan.accountSid,
    friendly_name: plan.friendlyName,
    create_time: at(plan.createMs),
    start_time: at(plan.startMs),
    max_participants: MAX_PARTICIPANTS,
    mixer_region: plan.mixerRegion,
    mixer_region_requested: plan.mixerRegionRequested ?? null,
    recording_enabled: plan.recordingEnabled,
  };
  if (stage === 'partial') {
    const started = plan.participants.filter((p) => plan.startMs !== undefined && p.joinMs <= plan.startMs).length;
    return {
      ...common,
      end_time: null,
      duration_seconds: null,
      connect_duration_seconds: null,
      status: 'in_progress',
      max_concurrent_participants: started,
      unique_participants: started,
      end_reason: null,
      ended_by: null,
      processing_state: 'in_progress',
      detected_issues: null,
      tags: null,
      tag_info: null,
    };
  }
  return {
    ...common,
    end_time: at(plan.endMs),
    duration_seconds: seconds(plan.createMs, plan.endMs),
    connect_duration_seconds: seconds(plan.startMs, plan.endMs),
    status: plan.status,
    max_concurrent_participants: plan.maxConcurrent,
    unique_participants: plan.participants.length,
    end_reason: plan.endReason,
    ended_by: plan.endedBy ?? null,
    processing_state: 'complete',
    detected_issues: { ...plan.detectedIssues },
    tags: [...plan.tags],
    tag_info: null,
  };
}

function metrics(q: ParticipantQuality): JsonObject {
  return {
    total_packets_lost: q.packetsLost,
    total_packets_received: q.packetsReceived,
    packet_loss_percentage: q.lossPct,
    jitter: { avg: q.jitterAvgMs, max: q.jitterMaxMs },
    latency: { avg: q.latencyAvgMs, max: q.latencyMaxMs },
    mos: q.mos,
    tags: [...q.tags],
  };
}

function participantData(plan: ConferencePlan, p: ParticipantPlan, clock: EventClock): JsonObject {
  // `events`: epoch milliseconds per action, as the REST example (`"mute": [1633705131000]`).
  const events: Record<string, number[]> = {};
  for (const a of p.actions) (events[a.name] ??= []).push(clock.epochMs(a.atMs));
  const call = p.call;
  const joinIso = isoSeconds(clock.epochMs(p.joinMs));
  const leaveIso = isoSeconds(clock.epochMs(p.leaveMs));
  return {
    participant_sid: p.participantSid,
    label: p.label,
    conference_sid: plan.conferenceSid,
    call_sid: call.callSid,
    account_sid: plan.accountSid,
    call_direction: call.direction === 'inbound' ? 'inbound' : 'outbound',
    from: call.from.number,
    to: call.to.number,
    call_state: call.callState,
    country_code: (call.direction === 'inbound' ? call.from : call.to).countryCode,
    is_moderator: p.isModerator,
    join_time: joinIso,
    leave_time: leaveIso,
    duration_seconds: Math.round((Date.parse(leaveIso) - Date.parse(joinIso)) / 1000),
    outbound_queue_length: p.outboundQueue?.length ?? null,
    // Milliseconds, as the REST example shows (965 for a leg of 64 s).
    outbound_time_in_queue: p.outboundQueue?.timeMs ?? null,
    jitter_buffer_size: p.jitterBufferSize,
    is_coach: p.isCoach,
    coached_participants: p.coached.length > 0 ? [...p.coached] : null,
    participant_region: call.site.region,
    conference_region: plan.mixerRegion,
    call_type: call.callType,
    processing_state: 'complete',
    properties: { ...p.properties },
    events,
    metrics: { inbound: metrics(p.inbound), outbound: metrics(p.outbound) },
  };
}
