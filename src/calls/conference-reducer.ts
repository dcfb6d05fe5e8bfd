// A conference's state machine as pure functions, like the call's (call-reducer.ts): (stored record,
// input) -> { next record, spans for the outbox, effects applied after the commit }. A conference is
// finalised when its complete summary and a summary of every participant it counted are in, or when
// it has been idle for CALL_IDLE_TIMEOUT; later data becomes late spans in its trace.
import type { ConferenceSummaryRecord, ParticipantSummaryRecord } from '../events/types.js';
import type { CallEffect, LateKind, ReduceContext } from './call-reducer.js';
import type { FinaliseReason } from './call-state.js';
import {
  MAX_PARTICIPANTS_PER_CONFERENCE,
  isConferenceDone,
  isNewerConferenceSummary,
  newConferenceState,
  participantKey,
  touchConference,
  type ConferenceState,
} from './conference-state.js';
import { buildConferenceSpans, buildLateConferenceSummarySpan, buildParticipantSpan } from './conference-trace.js';
import { isConferenceRecord, type CallChange, type ConferenceRecord, type StoredCall } from './ports.js';

/** Once-per-conference and once-per-participant facts, for the metrics recorded after the commit. */
export type ConferenceEffect =
  | {
      kind: 'conference-finalised';
      reason: FinaliseReason;
      summary: ConferenceSummaryRecord | undefined;
      participants: ParticipantSummaryRecord[];
    }
  /** Participants that joined the trace after the conference was finalised (late spans). */
  | { kind: 'conference-participants'; participants: ParticipantSummaryRecord[] };

type Change = CallChange<CallEffect[]>;

const unchanged: Change = { next: undefined, result: [] };
const ignoredAs = (late: LateKind): Change => ({
  next: undefined,
  result: [{ kind: 'late', late, outcome: 'ignored' }],
});

/** The conference's own record; a call record under a ConferenceSid cannot come from Twilio. */
function conferenceRecord(current: StoredCall | undefined): ConferenceRecord | undefined | 'conflict' {
  if (current === undefined) return undefined;
  return isConferenceRecord(current) ? current : 'conflict';
}

function pendingState(
  current: ConferenceRecord | undefined,
  conferenceSid: string,
  accountSid: string | undefined,
  now: number,
) {
  return current?.status === 'pending'
    ? { ...current.state, participants: [...current.state.participants], eventIds: [...current.state.eventIds] }
    : newConferenceState(conferenceSid, accountSid, now);
}

export function reduceConferenceSummary(
  stored: StoredCall | undefined,
  summary: ConferenceSummaryRecord,
  ctx: ReduceContext,
): Change {
  const current = conferenceRecord(stored);
  if (current === 'conflict') return ignoredAs('conference-summary');
  if (current?.status === 'finalised') {
    const t = current.tombstone;
    // The tombstone keeps the stage only (no end time), so only a later stage is news here: Twilio
    // redelivering the complete summary under a new CloudEvent id must not add a late span each time.
    const news = t.summaryStage === undefined || (t.summaryStage === 'partial' && summary.stage === 'complete');
    if (!news) return ignoredAs('conference-summary');
    return {
      next: { status: 'finalised', tombstone: { ...t, summaryStage: summary.stage } },
      outbox: [buildLateConferenceSummarySpan(summary, ctx.eventId, ctx.receivedAt, ctx)],
      result: [{ kind: 'late', late: 'conference-summary', outcome: 'late_span' }],
    };
  }
  const state = pendingState(current, summary.conferenceSid, summary.accountSid, ctx.now);
  touchConference(state, [summary.createTime, summary.startTime, summary.endTime], ctx.now);
  state.accountSid ??= summary.accountSid;
  const s = state.summary;
  if (isNewerConferenceSummary(summary, s === undefined ? undefined : { stage: s.stage, endTime: s.endTime }))
    state.summary = summary;
  return settle(state, ctx);
}

export function reduceParticipantSummary(
  stored: StoredCall | undefined,
  participant: ParticipantSummaryRecord,
  ctx: ReduceContext,
): Change {
  const current = conferenceRecord(stored);
  if (current === 'conflict') return ignoredAs('participant-summary');
  const key = participantKey(participant, ctx.eventId);
  if (current?.status === 'finalised') {
    const t = current.tombstone;
    // Already in the trace: a repeat, or the retry of a request that failed after its update was written.
    if (t.eventIds.includes(ctx.eventId) || t.participantKeys.includes(key)) return ignoredAs('participant-summary');
    // The tombstone stays bounded: past the cap a late leg is counted as ignored, not kept.
    if (t.participantKeys.length >= MAX_PARTICIPANTS_PER_CONFERENCE) return ignoredAs('participant-summary');
    return {
      next: {
        status: 'finalised',
        tombstone: { ...t, participantKeys: [...t.participantKeys, key], eventIds: [...t.eventIds, ctx.eventId] },
      },
      outbox: [buildParticipantSpan(participant, key, participant.joinTime ?? ctx.receivedAt, ctx, true)],
      result: [
        { kind: 'late', late: 'participant-summary', outcome: 'late_span' },
        { kind: 'conference-participants', participants: [participant] },
      ],
    };
  }
  if (current?.state.eventIds.includes(ctx.eventId) === true) return unchanged;
  const state = pendingState(current, participant.conferenceSid, participant.accountSid, ctx.now);
  touchConference(state, [participant.joinTime, participant.leaveTime], ctx.now);
  state.accountSid ??= participant.accountSid;
  const at = state.participants.findIndex((e) => e.key === key);
  if (at >= 0) {
    // Another snapshot of a leg already here (Twilio re-processed it): the one that saw it leave later wins.
    const kept = state.participants[at];
    if (kept !== undefined && (participant.leaveTime ?? -Infinity) > (kept.summary.leaveTime ?? -Infinity))
      state.participants[at] = { key, eventId: ctx.eventId, summary: participant };
  } else if (state.participants.length >= MAX_PARTICIPANTS_PER_CONFERENCE) {
    // Not remembered, so a redelivery of a dropped leg counts again: Twilio's own maximum of 250
    // participants keeps this path theoretical, and it only ever finalises such a conference sooner.
    state.droppedParticipants++;
  } else {
    // Only kept legs are remembered by event id (a repeat of one is found by its key anyway), so the
    // record stays bounded by MAX_PARTICIPANTS_PER_CONFERENCE however often Twilio redelivers.
    state.eventIds.push(ctx.eventId);
    state.participants.push({ key, eventId: ctx.eventId, summary: participant });
  }
  return settle(state, ctx);
}

function settle(state: ConferenceState, ctx: ReduceContext): Change {
  if (isConferenceDone(state)) return finaliseConference(state, 'complete', ctx);
  return { next: { status: 'pending', state }, result: [] };
}

/** The conference's trace goes out: root and participant spans, with the tombstone, in one commit. */
export function finaliseConference(
  state: ConferenceState,
  reason: FinaliseReason,
  ctx: Pick<ReduceContext, 'now' | 'exposePii'>,
): Change {
  return {
    next: {
      status: 'finalised',
      tombstone: {
        kind: 'conference',
        conferenceSid: state.conferenceSid,
        finalisedAt: ctx.now,
        reason,
        summaryStage: state.summary?.stage,
        participantKeys: state.participants.map((e) => e.key),
        eventIds: state.eventIds,
      },
    },
    outbox: buildConferenceSpans(state, reason, ctx),
    result: [
      {
        kind: 'conference-finalised',
        reason,
        summary: state.summary,
        participants: state.participants.map((e) => e.summary),
      },
    ],
  };
}
