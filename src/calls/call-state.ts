// What the exporter knows about one call while it waits for Twilio's final summary. Plain data, so a
// durable or shared store can serialise it. Reducers here are pure: no clock, no I/O.
import type { CallEventRecord, CallSummaryRecord, SummaryStage } from '../events/types.js';
import type { StreamSnapshot } from './stream-deltas.js';

/** Root span events kept per call; past it events are counted as dropped (OTel's own limit is 128 by default). */
export const MAX_EVENTS_PER_CALL = 1000;

/** A conference this call was a leg of, from that leg's participant summary: the root span links to it. */
export interface ConferenceLink {
  conferenceSid: string;
  /** The participant span's key in the conference trace (conference-state.ts participantKey). */
  participantKey: string;
  participantSid: string | undefined;
}

export interface CallState {
  /** Tells a call from a conference record in the same store; absent in states written before conferences. */
  kind?: 'call';
  callSid: string;
  accountSid: string | undefined;
  /** Receive time (epoch ms) of the last data for this call: drives idle finalisation. */
  lastActivityAt: number;
  /** Earliest and latest payload timestamps seen (events, metrics), epoch ms. */
  earliestAt: number | undefined;
  latestAt: number | undefined;
  /** Call events, each once, in arrival order (sorted when emitted). */
  events: CallEventRecord[];
  /** CloudEvent ids of every call event applied (kept or dropped): applying one again changes nothing. */
  eventIds: string[];
  droppedEvents: number;
  /** Best summary so far: complete > predicted-complete > partial, then higher processing_version. */
  summary: CallSummaryRecord | undefined;
  /**
   * The last cumulative snapshot of each gateway stream, keyed `edge/direction` (stream-deltas.ts):
   * interval jitter and packet deltas are derived from consecutive ones. Absent until a gateway
   * sample arrives (and in states written before this field existed).
   */
  streams?: Record<string, StreamSnapshot>;
  /** Conferences the call took part in (participant summaries); absent until one arrives. */
  conferences?: ConferenceLink[];
}

/** What remains of a call after its root span went out: enough to route late data and refuse repeats. */
export interface FinalisedCall {
  kind?: 'call';
  callSid: string;
  finalisedAt: number;
  reason: FinaliseReason;
  summaryStage: SummaryStage | undefined;
  processingVersion: number;
  /**
   * CloudEvent ids of the call events already in the trace (root span or late spans). A request's
   * call updates are written before its claims commit (a shared store writes each at once); if it then
   * fails, Twilio's retry of it must find each event applied, also after the call was finalised
   * meanwhile, or the event would be in the trace twice (root span and a late span). Absent in
   * tombstones written before this field existed.
   */
  eventIds?: string[];
  /**
   * The conference links already in the trace (root span or late link spans), as conferenceLinkKey():
   * a leg's participant summary re-sent under a new CloudEvent id must not add the link again. Absent
   * when the call was in no conference (and in tombstones written before conferences).
   */
  conferenceLinks?: string[];
}

/** A call's link to one participant span: the conference and the participant's key in it. */
export function conferenceLinkKey(link: Pick<ConferenceLink, 'conferenceSid' | 'participantKey'>): string {
  return `${link.conferenceSid}/${link.participantKey}`;
}

export type FinaliseReason = 'complete' | 'idle' | 'capacity';

export function newCallState(callSid: string, accountSid: string | undefined, now: number): CallState {
  return {
    callSid,
    accountSid,
    lastActivityAt: now,
    earliestAt: undefined,
    latestAt: undefined,
    events: [],
    eventIds: [],
    droppedEvents: 0,
    summary: undefined,
  };
}

export function touch(state: CallState, at: number | undefined, now: number, accountSid: string | undefined): void {
  state.lastActivityAt = Math.max(state.lastActivityAt, now);
  state.accountSid ??= accountSid;
  if (at === undefined) return;
  state.earliestAt = state.earliestAt === undefined ? at : Math.min(state.earliestAt, at);
  state.latestAt = state.latestAt === undefined ? at : Math.max(state.latestAt, at);
}

export function addEvent(state: CallState, event: CallEventRecord): void {
  if (state.events.length >= MAX_EVENTS_PER_CALL) {
    state.droppedEvents++;
    return;
  }
  state.events.push(event);
}

const STAGE_RANK: Record<SummaryStage, number> = { partial: 1, 'predicted-complete': 2, complete: 3 };

/** Twilio sends several snapshots per call, out of order and at least once (reference section 8, item 11). */
export function isNewerSummary(
  candidate: { stage: SummaryStage; processingVersion: number },
  current: { stage: SummaryStage | undefined; processingVersion: number } | undefined,
): boolean {
  if (current?.stage === undefined) return true;
  const a = STAGE_RANK[candidate.stage];
  const b = STAGE_RANK[current.stage];
  return a !== b ? a > b : candidate.processingVersion > current.processingVersion;
}

export function applySummary(state: CallState, summary: CallSummaryRecord): void {
  const current =
    state.summary === undefined
      ? undefined
      : { stage: state.summary.stage, processingVersion: state.summary.processingVersion };
  if (isNewerSummary(summary, current)) state.summary = summary;
  state.accountSid ??= summary.accountSid;
}
