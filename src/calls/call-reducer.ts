// The call's state machine as pure functions: (stored record, input) -> { next record, spans for the
// outbox, effects }. No clock, no I/O, no mutation of the input: a shared store may run one twice
// after a conflicting write, and a durable store commits `next` and the spans together. Effects
// (metrics, counts) are applied by the caller only after that commit.
// Each event applies once by its CloudEvent id, so a retried or replayed event changes nothing.
import type { CallEventRecord, CallMetricSample, CallSummaryRecord } from '../events/types.js';
import {
  addEvent,
  applySummary,
  conferenceLinkKey,
  isNewerSummary,
  newCallState,
  touch,
  type CallState,
  type FinaliseReason,
} from './call-state.js';
import { finaliseConference, type ConferenceEffect } from './conference-reducer.js';
import { participantKey } from './conference-state.js';
import { isConferenceRecord, type CallChange, type CallRecord, type StoredCall } from './ports.js';
import { snapshotOf, stepStream, streamKey, type DerivedValues } from './stream-deltas.js';
import { buildConferenceLinkSpan } from './conference-trace.js';
import { buildLateEventSpan, buildLateSummarySpan, buildRootSpan, type BuildOptions } from './trace-builder.js';
import type { ParticipantSummaryRecord } from '../events/types.js';

export type LateKind =
  'call-event' | 'call-summary' | 'call-metric' | 'conference-summary' | 'participant-summary' | 'conference-link';

/** Interval figures a gateway sample lacks, derived from its stream's cumulative snapshots. */
export interface DerivedSample {
  kind: 'derived-sample';
  /** The sample's own labels source: the recorder applies the same label rules as to interval values. */
  sample: Pick<CallMetricSample, 'callSid' | 'edge' | 'streamDirection' | 'codec' | 'region'>;
  values: DerivedValues;
}

export type CallEffect =
  | { kind: 'finalised'; reason: FinaliseReason; summary: CallSummaryRecord | undefined }
  | { kind: 'late'; late: LateKind; outcome: 'late_span' | 'ignored' }
  | DerivedSample
  | ConferenceEffect;

export interface ReduceContext extends BuildOptions {
  /** Epoch ms now (receive time of the request, or the sweep's time). */
  now: number;
  /** The CloudEvent id of the input. */
  eventId: string;
  receivedAt: number;
}

type Change = CallChange<CallEffect[]>;

const unchanged: Change = { next: undefined, result: [] };

/**
 * The call's own record. A conference record under a CallSid cannot come from Twilio (CA... and CF...
 * sids never collide); data claiming one is ignored rather than mixed into the conference.
 */
function callRecord(current: StoredCall | undefined): CallRecord | undefined | 'conflict' {
  return current !== undefined && isConferenceRecord(current) ? 'conflict' : current;
}

const ignoredAs = (late: LateKind): Change => ({
  next: undefined,
  result: [{ kind: 'late', late, outcome: 'ignored' }],
});

function copy(state: CallState): CallState {
  return { ...state, events: [...state.events], eventIds: [...state.eventIds] };
}

function pendingState(current: CallRecord | undefined, callSid: string, accountSid: string | undefined, now: number) {
  return current?.status === 'pending' ? copy(current.state) : newCallState(callSid, accountSid, now);
}

export function reduceCallEvent(stored: StoredCall | undefined, event: CallEventRecord, ctx: ReduceContext): Change {
  const current = callRecord(stored);
  if (current === 'conflict') return ignoredAs('call-event');
  if (current?.status === 'finalised') {
    const t = current.tombstone;
    // Already in the trace: the retry of a request that failed after its update was written.
    if (t.eventIds?.includes(ctx.eventId) === true) {
      return { next: undefined, result: [{ kind: 'late', late: 'call-event', outcome: 'ignored' }] };
    }
    return {
      next: { status: 'finalised', tombstone: { ...t, eventIds: [...(t.eventIds ?? []), ctx.eventId] } },
      outbox: [buildLateEventSpan(event, ctx.eventId, ctx)],
      result: [{ kind: 'late', late: 'call-event', outcome: 'late_span' }],
    };
  }
  if (current?.state.eventIds.includes(ctx.eventId) === true) return unchanged;
  const state = pendingState(current, event.callSid, event.accountSid, ctx.now);
  touch(state, event.timestamp, ctx.now, event.accountSid);
  addEvent(state, event);
  state.eventIds.push(ctx.eventId);
  return { next: { status: 'pending', state }, result: [] };
}

/**
 * Samples are metrics, not span events; they widen the call's time range and keep it active. A gateway
 * sample also moves its stream's cumulative snapshot, and what its interval lacks (jitter, packets of a
 * cumulative-only sample) comes back as a `derived-sample` effect (stream-deltas.ts). A snapshot not
 * newer than the remembered one (a replay, or out of order) derives nothing and changes no snapshot.
 */
export function reduceCallMetric(stored: StoredCall | undefined, sample: CallMetricSample, ctx: ReduceContext): Change {
  const current = callRecord(stored);
  if (current === 'conflict') return ignoredAs('call-metric');
  if (current?.status === 'finalised') {
    return { next: undefined, result: [{ kind: 'late', late: 'call-metric', outcome: 'ignored' }] };
  }
  // Only what changes is copied: the rest is kept by reference, so the store writes little.
  const state = current === undefined ? newCallState(sample.callSid, sample.accountSid, ctx.now) : { ...current.state };
  touch(state, sample.timestamp, ctx.now, sample.accountSid);
  const result: CallEffect[] = [];
  if (sample.source === 'gateway') {
    const key = streamKey(sample.edge, sample.streamDirection);
    const step = stepStream(state.streams?.[key], snapshotOf(sample.timestamp, sample.cumulative), sample.interval);
    if (step.next !== undefined) state.streams = { ...state.streams, [key]: step.next };
    if (Object.keys(step.derived).length > 0) {
      const { callSid, edge, streamDirection, codec, region } = sample;
      result.push({
        kind: 'derived-sample',
        sample: { callSid, edge, streamDirection, codec, region },
        values: step.derived,
      });
    }
  }
  return { next: { status: 'pending', state }, result };
}

export function reduceCallSummary(
  stored: StoredCall | undefined,
  summary: CallSummaryRecord,
  ctx: ReduceContext,
): Change {
  const current = callRecord(stored);
  if (current === 'conflict') return ignoredAs('call-summary');
  if (current?.status === 'finalised') {
    const t = current.tombstone;
    // A repeat of what the root span already says is no news; anything newer goes out as a late span.
    if (!isNewerSummary(summary, { stage: t.summaryStage, processingVersion: t.processingVersion })) {
      return { next: undefined, result: [{ kind: 'late', late: 'call-summary', outcome: 'ignored' }] };
    }
    return {
      next: {
        status: 'finalised',
        tombstone: { ...t, summaryStage: summary.stage, processingVersion: summary.processingVersion },
      },
      outbox: [buildLateSummarySpan(summary, ctx.eventId, ctx.receivedAt, ctx)],
      result: [{ kind: 'late', late: 'call-summary', outcome: 'late_span' }],
    };
  }
  const state = pendingState(current, summary.callSid, summary.accountSid, ctx.now);
  touch(state, undefined, ctx.now, summary.accountSid);
  applySummary(state, summary);
  if (state.summary?.stage === 'complete') return finalise(state, 'complete', ctx);
  return { next: { status: 'pending', state }, result: [] };
}

/**
 * A conference leg's participant summary, seen from the leg's call: the call's root span links to the
 * participant span in the conference trace. A call already finalised gets a late child span carrying
 * the link (a span's links are fixed when it is built); a call not seen yet is started, so the link
 * target exists even for legs whose call data never comes (Conference Insights subscribed alone).
 */
export function reduceCallConferenceLink(
  stored: StoredCall | undefined,
  participant: ParticipantSummaryRecord & { callSid: string },
  ctx: ReduceContext,
): Change {
  const current = callRecord(stored);
  if (current === 'conflict') return ignoredAs('conference-link');
  const link = {
    conferenceSid: participant.conferenceSid,
    participantKey: participantKey(participant, ctx.eventId),
    participantSid: participant.participantSid,
  };
  if (current?.status === 'finalised') {
    const t = current.tombstone;
    // Already in the trace (the root span's links or an earlier late span), whichever CloudEvent id
    // brought it: Twilio may send a participant summary again under a new id.
    const key = conferenceLinkKey(link);
    if (t.eventIds?.includes(ctx.eventId) === true || t.conferenceLinks?.includes(key) === true)
      return ignoredAs('conference-link');
    return {
      next: {
        status: 'finalised',
        tombstone: {
          ...t,
          eventIds: [...(t.eventIds ?? []), ctx.eventId],
          conferenceLinks: [...(t.conferenceLinks ?? []), key],
        },
      },
      outbox: [buildConferenceLinkSpan(participant, link, ctx.eventId, ctx.receivedAt, ctx)],
      result: [{ kind: 'late', late: 'conference-link', outcome: 'late_span' }],
    };
  }
  const known = current?.state.conferences ?? [];
  if (known.some((c) => conferenceLinkKey(c) === conferenceLinkKey(link))) return unchanged;
  const state = pendingState(current, participant.callSid, participant.accountSid, ctx.now);
  touch(state, undefined, ctx.now, participant.accountSid);
  state.conferences = [...known, link];
  return { next: { status: 'pending', state }, result: [] };
}

/**
 * Finalises a pending call or conference (idle sweep, capacity bound). With `idleBefore`, only one
 * still idle is finalised: data may have arrived between the sweep's scan and this update.
 */
export function reduceFinalise(
  current: StoredCall | undefined,
  reason: FinaliseReason,
  ctx: Omit<ReduceContext, 'eventId' | 'receivedAt'>,
  idleBefore?: number,
): Change {
  if (current?.status !== 'pending') return unchanged;
  if (idleBefore !== undefined && current.state.lastActivityAt >= idleBefore) return unchanged;
  if (isConferenceRecord(current)) return finaliseConference(current.state, reason, ctx);
  return finalise(current.state, reason, ctx);
}

function finalise(state: CallState, reason: FinaliseReason, ctx: Pick<ReduceContext, 'now' | 'exposePii'>): Change {
  return {
    next: {
      status: 'finalised',
      tombstone: {
        callSid: state.callSid,
        finalisedAt: ctx.now,
        reason,
        summaryStage: state.summary?.stage,
        processingVersion: state.summary?.processingVersion ?? 0,
        eventIds: state.eventIds,
        ...(state.conferences === undefined || state.conferences.length === 0
          ? {}
          : { conferenceLinks: state.conferences.map(conferenceLinkKey) }),
      },
    },
    outbox: [buildRootSpan(state, reason, ctx)],
    result: [{ kind: 'finalised', reason, summary: state.summary }],
  };
}
