// Builds the spans of a call's trace from its state (pure). One root span per call; late data after
// the root went out becomes a child span of it, marked late (DESIGN section 5).
import type { CallEventRecord, CallSummaryRecord } from '../events/types.js';
import { eventAttributes, eventName, put, summaryAttributes } from './attributes.js';
import type { CallState, FinaliseReason } from './call-state.js';
import { lateSpanIdFor, rootSpanIdFor, traceIdFor } from './ids.js';
import type { Attrs, SpanData, SpanEventData } from './span-data.js';

export const ROOT_SPAN_NAME = 'twilio.voice.call';
export const LATE_SPAN_NAME = 'twilio.voice.call.late';

export interface BuildOptions {
  exposePii: boolean;
}

export function buildRootSpan(state: CallState, reason: FinaliseReason, opts: BuildOptions): SpanData {
  const s = state.summary;
  const events = [...state.events].sort((a, b) => a.timestamp - b.timestamp).map((e) => spanEvent(e, opts));
  const start = s?.startTime ?? s?.createdTime ?? state.earliestAt ?? state.lastActivityAt;
  const end = Math.max(start, s?.endTime ?? state.latestAt ?? start);
  const attributes: Attrs = {
    'twilio.call_sid': state.callSid,
    'twilio.finalised_by': reason,
    'twilio.summary.state': s?.stage ?? 'none',
  };
  // The summary names the account authoritatively; earlier data only fills in when there is none.
  put(attributes, 'twilio.account_sid', s?.accountSid ?? state.accountSid);
  Object.assign(attributes, s === undefined ? {} : summaryAttributes(s, opts.exposePii));
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
