// Builds the spans of a call's trace from its state (pure). One root span per call; late data after
// the root went out becomes a child span of it, marked late (DESIGN section 5).
import type { CallEventRecord, CallSummaryRecord } from '../events/types.js';
import { eventAttributes, eventName, put, summaryAttributes } from './attributes.js';
import type { CallState, FinaliseReason } from './call-state.js';
import { conferenceLinks } from './conference-trace.js';
import { lateSpanIdFor, rootSpanIdFor, traceIdFor } from './ids.js';
import type { Attrs, SpanData, SpanEventData } from './span-data.js';

export const ROOT_SPAN_NAME = 'twilio.voice.call';
export const LATE_SPAN_NAME = 'twilio.voice.call.late';

export interface BuildOptions {
  exposePii: boolean;
}

/**
 * Twilio ends a call after 4 h unless told otherwise (the Calls API `TimeLimit` default, 14400 s):
 * data of one CallSid spread wider than this is not one call's (test traffic reusing a sid, a
 * replay, a wrong clock), and a root span stretched over it would hide the call in any timeline.
 */
export const MAX_CALL_WINDOW_MS = 4 * 60 * 60_000;
/** Events this close outside the summary's times still belong to the call (ringing before start, SDK feedback after hang-up). */
export const SUMMARY_SLACK_MS = 15 * 60_000;
/** Outlier event names listed on the root span, at most. */
const MAX_OUTLIER_NAMES = 10;

interface Window {
  from: number;
  to: number;
}

/**
 * The time window the call's root span and its events may cover: the summary's times with some
 * slack when Twilio sent them, else around the MAX_CALL_WINDOW_MS stretch holding the most call
 * events (the earliest such stretch on a tie), else the latest MAX_CALL_WINDOW_MS of the data seen.
 */
function callWindow(state: CallState, sortedTimes: readonly number[]): Window | undefined {
  const s = state.summary;
  const begin = s?.createdTime === undefined ? s?.startTime : Math.min(s.createdTime, s.startTime ?? s.createdTime);
  if (begin !== undefined && s?.endTime !== undefined)
    return { from: begin - SUMMARY_SLACK_MS, to: Math.max(begin, s.endTime) + SUMMARY_SLACK_MS };
  if (begin !== undefined) return { from: begin - SUMMARY_SLACK_MS, to: begin + MAX_CALL_WINDOW_MS };
  if (s?.endTime !== undefined) return { from: s.endTime - MAX_CALL_WINDOW_MS, to: s.endTime + SUMMARY_SLACK_MS };
  if (sortedTimes.length > 0) {
    // The densest MAX_CALL_WINDOW_MS run of events, widened so that data up to MAX_CALL_WINDOW_MS
    // from either end of that run (metrics samples before the first event) still belongs to the call.
    let best = { first: sortedTimes[0] ?? 0, last: sortedTimes[0] ?? 0, count: 0 };
    let lo = 0;
    for (let hi = 0; hi < sortedTimes.length; hi++) {
      const t = sortedTimes[hi] ?? 0;
      while ((sortedTimes[lo] ?? t) < t - MAX_CALL_WINDOW_MS) lo++;
      if (hi - lo + 1 > best.count) best = { first: sortedTimes[lo] ?? t, last: t, count: hi - lo + 1 };
    }
    return { from: best.last - MAX_CALL_WINDOW_MS, to: best.first + MAX_CALL_WINDOW_MS };
  }
  if (state.latestAt !== undefined) return { from: state.latestAt - MAX_CALL_WINDOW_MS, to: state.latestAt };
  return undefined;
}

const clamp = (t: number, w: Window | undefined): number => (w === undefined ? t : Math.min(w.to, Math.max(w.from, t)));
const iso = (t: number): string => new Date(t).toISOString();

export function buildRootSpan(state: CallState, reason: FinaliseReason, opts: BuildOptions): SpanData {
  const s = state.summary;
  const sorted = [...state.events].sort((a, b) => a.timestamp - b.timestamp);
  const window = callWindow(
    state,
    sorted.map((e) => e.timestamp),
  );
  const inside = (t: number) => window === undefined || (t >= window.from && t <= window.to);
  const kept = sorted.filter((e) => inside(e.timestamp));
  const outliers = sorted.filter((e) => !inside(e.timestamp));
  const events = kept.map((e) => spanEvent(e, opts));
  const seenStart = s?.startTime ?? s?.createdTime ?? state.earliestAt ?? state.lastActivityAt;
  const seenEnd = Math.max(seenStart, s?.endTime ?? state.latestAt ?? seenStart);
  // Summary times are Twilio's own and always inside the window; only data-derived times get clamped.
  // Outside the window, the nearest call event inside it bounds the span (earliestAt/latestAt are
  // aggregates: the data between them is not known one by one); with no such event, the window edge.
  const start = inside(seenStart) ? seenStart : (kept[0]?.timestamp ?? clamp(seenStart, window));
  const end = Math.max(start, inside(seenEnd) ? seenEnd : (kept.at(-1)?.timestamp ?? clamp(seenEnd, window)));
  const attributes: Attrs = {
    'twilio.call_sid': state.callSid,
    'twilio.finalised_by': reason,
    'twilio.summary.state': s?.stage ?? 'none',
  };
  if (outliers.length > 0 || start !== seenStart || end !== seenEnd) {
    // The data left out of the span's time range, kept as attributes: nothing Twilio sent is silently lost.
    const first = Math.min(state.earliestAt ?? seenStart, outliers[0]?.timestamp ?? seenStart, seenStart);
    const last = Math.max(state.latestAt ?? seenEnd, outliers.at(-1)?.timestamp ?? seenEnd, seenEnd);
    attributes['twilio.trace.clamped'] = true;
    attributes['twilio.trace.data_earliest'] = iso(first);
    attributes['twilio.trace.data_latest'] = iso(last);
    put(attributes, 'twilio.trace.outlier_events', outliers.length > 0 ? outliers.length : undefined);
    if (outliers.length > 0) {
      attributes['twilio.trace.outlier_event_names'] = outliers
        .slice(0, MAX_OUTLIER_NAMES)
        .map((e) => `${iso(e.timestamp)} ${eventName(e, opts.exposePii)}`);
    }
  }
  // The summary names the account authoritatively; earlier data only fills in when there is none.
  put(attributes, 'twilio.account_sid', s?.accountSid ?? state.accountSid);
  Object.assign(attributes, s === undefined ? {} : summaryAttributes(s, opts.exposePii));
  const conferences = state.conferences ?? [];
  if (conferences.length > 0)
    attributes['twilio.conference_sids'] = [...new Set(conferences.map((c) => c.conferenceSid))];
  return {
    traceId: traceIdFor(state.callSid),
    spanId: rootSpanIdFor(state.callSid),
    parentSpanId: undefined,
    name: ROOT_SPAN_NAME,
    startMs: start,
    endMs: end,
    attributes,
    events,
    droppedEvents: state.droppedEvents,
    ...(conferences.length > 0 ? { links: conferenceLinks(conferences) } : {}),
    status: callStatus(s),
  };
}

/** Failed calls are errors, with the SIP response and Q.850 cause as the message. */
function callStatus(s: CallSummaryRecord | undefined): SpanData['status'] {
  if (s?.callState !== 'fail') return { code: 'unset', message: undefined };
  const parts = [
    s.lastSipResponse === undefined ? undefined : `SIP ${s.lastSipResponse}`,
    s.q850Cause === undefined ? undefined : `Q.850 cause ${s.q850Cause}`,
  ];
  const detail = parts.filter((p) => p !== undefined).join(', ');
  return { code: 'error', message: detail === '' ? 'call failed' : `call failed: ${detail}` };
}

function spanEvent(e: CallEventRecord, opts: BuildOptions): SpanEventData {
  return { name: eventName(e, opts.exposePii), timeMs: e.timestamp, attributes: eventAttributes(e, opts.exposePii) };
}

/** A call event that arrived after the root span was exported. */
export function buildLateEventSpan(event: CallEventRecord, cloudEventId: string, opts: BuildOptions): SpanData {
  const extra: Attrs = { 'twilio.late.kind': 'call-event' };
  put(extra, 'twilio.account_sid', event.accountSid);
  return lateSpan(event.callSid, cloudEventId, event.timestamp, event.timestamp, extra, [spanEvent(event, opts)]);
}

/** A summary newer than the one the root span was built from. */
export function buildLateSummarySpan(
  summary: CallSummaryRecord,
  cloudEventId: string,
  receivedAt: number,
  opts: BuildOptions,
): SpanData {
  const at = summary.endTime ?? receivedAt;
  const attributes: Attrs = {
    'twilio.late.kind': 'call-summary',
    'twilio.summary.state': summary.stage,
    ...summaryAttributes(summary, opts.exposePii),
  };
  put(attributes, 'twilio.account_sid', summary.accountSid);
  const span = lateSpan(summary.callSid, cloudEventId, at, at, attributes, []);
  return { ...span, status: callStatus(summary) };
}

function lateSpan(
  callSid: string,
  cloudEventId: string,
  startMs: number,
  endMs: number,
  extra: Attrs,
  events: SpanEventData[],
): SpanData {
  return {
    traceId: traceIdFor(callSid),
    spanId: lateSpanIdFor(callSid, cloudEventId),
    parentSpanId: rootSpanIdFor(callSid),
    name: LATE_SPAN_NAME,
    startMs,
    endMs,
    attributes: { 'twilio.call_sid': callSid, 'twilio.late': true, ...extra },
    events,
    droppedEvents: 0,
    status: { code: 'unset', message: undefined },
  };
}
