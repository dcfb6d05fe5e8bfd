// What the exporter knows about one conference while it waits for the end of it: the best conference
// summary so far and every participant summary (one per leg, sent when the leg leaves). Plain data, kept
// in the same store as calls (keyed by ConferenceSid), so it is durable and shared like a call's state.
// Reference: ../../shared/reference/twilio-call-insights.md section 7.
import type { ConferenceSummaryRecord, ConferenceSummaryStage, ParticipantSummaryRecord } from '../events/types.js';
import type { FinaliseReason } from './call-state.js';

/** Participants kept per conference; Twilio's own limit is 250 concurrent participants. */
export const MAX_PARTICIPANTS_PER_CONFERENCE = 500;

export interface ParticipantEntry {
  key: string;
  /** The CloudEvent that carried the summary kept. */
  eventId: string;
  summary: ParticipantSummaryRecord;
}

export interface ConferenceState {
  kind: 'conference';
  conferenceSid: string;
  accountSid: string | undefined;
  /** Receive time (epoch ms) of the last data for this conference: drives idle finalisation. */
  lastActivityAt: number;
  /** Earliest and latest payload times seen (joins, leaves, summary times), epoch ms. */
  earliestAt: number | undefined;
  latestAt: number | undefined;
  /** Best conference summary so far: complete > partial. */
  summary: ConferenceSummaryRecord | undefined;
  /** One entry per participant, in arrival order. */
  participants: ParticipantEntry[];
  /** CloudEvent ids of every participant summary applied: applying one again changes nothing. */
  eventIds: string[];
  droppedParticipants: number;
}

/** What remains once the conference trace went out: enough to route late data and refuse repeats. */
export interface FinalisedConference {
  kind: 'conference';
  conferenceSid: string;
  finalisedAt: number;
  reason: FinaliseReason;
  summaryStage: ConferenceSummaryStage | undefined;
  /** Participants already in the trace: a repeat of one is ignored, a new one is a late span. */
  participantKeys: string[];
  /** CloudEvent ids already applied (the retry of a request that failed after its update was written). */
  eventIds: string[];
}

/**
 * A participant's identity within its conference: the ParticipantSid, else its CallSid, else the
 * CloudEvent id. The participant span id and the call's link to it are derived from this key.
 */
export function participantKey(
  p: Pick<ParticipantSummaryRecord, 'participantSid' | 'callSid'>,
  eventId: string,
): string {
  if (p.participantSid !== undefined) return p.participantSid;
  return p.callSid !== undefined ? `call:${p.callSid}` : `event:${eventId}`;
}

export function newConferenceState(
  conferenceSid: string,
  accountSid: string | undefined,
  now: number,
): ConferenceState {
  return {
    kind: 'conference',
    conferenceSid,
    accountSid,
    lastActivityAt: now,
    earliestAt: undefined,
    latestAt: undefined,
    summary: undefined,
    participants: [],
    eventIds: [],
    droppedParticipants: 0,
  };
}

const STAGE_RANK: Record<ConferenceSummaryStage, number> = { partial: 1, complete: 2 };

/**
 * Summaries arrive at least once and in any order: complete beats partial; between two of one stage
 * the later end (or start) wins, a tie keeps the one there.
 */
export function isNewerConferenceSummary(
  candidate: ConferenceSummaryRecord,
  current: { stage: ConferenceSummaryStage | undefined; endTime?: number | undefined } | undefined,
): boolean {
  if (current?.stage === undefined) return true;
  const a = STAGE_RANK[candidate.stage];
  const b = STAGE_RANK[current.stage];
  if (a !== b) return a > b;
  return (candidate.endTime ?? -Infinity) > (current.endTime ?? -Infinity);
}

/** Widens the conference's time range with the payload times of a summary or a participant. */
export function touchConference(state: ConferenceState, times: readonly (number | undefined)[], now: number): void {
  state.lastActivityAt = Math.max(state.lastActivityAt, now);
  for (const at of times) {
    if (at === undefined) continue;
    state.earliestAt = state.earliestAt === undefined ? at : Math.min(state.earliestAt, at);
    state.latestAt = state.latestAt === undefined ? at : Math.max(state.latestAt, at);
  }
}

/**
 * The conference is over and every participant it counted has reported: Twilio sends the complete
 * summary with the conference-end event and each participant summary when its leg leaves, in any
 * order, so the last leg's summary may come after the complete conference summary.
 */
export function isConferenceDone(state: ConferenceState): boolean {
  const s = state.summary;
  if (s?.stage !== 'complete') return false;
  // Legs past MAX_PARTICIPANTS_PER_CONFERENCE were reported too, only not kept.
  return state.participants.length + state.droppedParticipants >= (s.uniqueParticipants ?? 0);
}
