// Bounded root spans: data of one CallSid spread over days must not stretch the call's root span.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { newCallState, type CallState } from '../../src/calls/call-state.js';
import { MAX_CALL_WINDOW_MS, SUMMARY_SLACK_MS, buildRootSpan } from '../../src/calls/trace-builder.js';
import type { CallEventRecord, CallSummaryRecord } from '../../src/events/types.js';

const SID = 'CA0123456789abcdef0123456789abcdef';
const T0 = Date.UTC(2025, 2, 14, 15, 0, 0);
const DAY = 24 * 60 * 60_000;

function event(name: string, timestamp: number): CallEventRecord {
  return {
    kind: 'call-event',
    callSid: SID,
    accountSid: undefined,
    timestamp,
    source: 'gateway',
    edge: 'carrier_edge',
    edgeLocation: undefined,
    region: undefined,
    group: 'call',
    name,
    level: 'INFO',
    errorCode: undefined,
    errorMessage: undefined,
    metricThreshold: undefined,
    metricValues: undefined,
    feedbackScore: undefined,
    feedbackReason: undefined,
    details: {},
    sensitive: {},
  };
}

function state(events: CallEventRecord[], extraTimes: number[] = []): CallState {
  const s = newCallState(SID, undefined, T0 + 3 * DAY);
  s.events = events;
  const times = [...events.map((e) => e.timestamp), ...extraTimes];
  s.earliestAt = Math.min(...times);
  s.latestAt = Math.max(...times);
  return s;
}

function summary(start: number, end: number): CallSummaryRecord {
  return {
    kind: 'call-summary',
    callSid: SID,
    accountSid: undefined,
    stage: 'complete',
    processingVersion: 1,
    processingState: 'complete',
    callType: 'carrier',
    callState: 'completed',
    direction: 'inbound',
    answeredBy: undefined,
    createdTime: start,
    startTime: start,
    endTime: end,
    durationSeconds: (end - start) / 1000,
    connectDurationSeconds: undefined,
    disconnectedBy: undefined,
    postDialDelaySeconds: undefined,
    queueTimeSeconds: undefined,
    lastSipResponse: undefined,
    q850Cause: undefined,
    tags: [],
    from: {} as CallSummaryRecord['from'],
    to: {} as CallSummaryRecord['to'],
    edges: [],
    parentCallSid: undefined,
    conferenceParticipant: undefined,
  };
}

const opts = { exposePii: false };

describe('bounded root spans', () => {
  test('an ordinary call is left alone: no clamp attributes', () => {
    const s = state([event('call.ringing', T0 + 1_000), event('call.completed', T0 + 60_000)]);
    const root = buildRootSpan(s, 'idle', opts);
    assert.equal(root.startMs, T0 + 1_000);
    assert.equal(root.endMs, T0 + 60_000);
    assert.equal(root.events.length, 2);
    assert.equal(root.attributes['twilio.trace.clamped'], undefined);
  });

  test('with a summary: events days away are outliers kept as attributes; times are the summary times', () => {
    const s = state([
      event('call.initiated', T0 - 2 * DAY),
      event('call.ringing', T0 - 5_000),
      event('call.completed', T0 + 60_000),
      event('call.completed', T0 + SUMMARY_SLACK_MS + 61_000),
    ]);
    s.summary = summary(T0, T0 + 60_000);
    const root = buildRootSpan(s, 'complete', opts);
    assert.equal(root.startMs, T0);
    assert.equal(root.endMs, T0 + 60_000);
    assert.deepEqual(
      root.events.map((e) => e.timeMs),
      [T0 - 5_000, T0 + 60_000],
      'ringing just before start stays',
    );
    assert.equal(root.attributes['twilio.trace.clamped'], true);
    assert.equal(root.attributes['twilio.trace.outlier_events'], 2);
    assert.deepEqual(root.attributes['twilio.trace.outlier_event_names'], [
      `${new Date(T0 - 2 * DAY).toISOString()} call.initiated`,
      `${new Date(T0 + SUMMARY_SLACK_MS + 61_000).toISOString()} call.completed`,
    ]);
    assert.equal(root.attributes['twilio.trace.data_earliest'], new Date(T0 - 2 * DAY).toISOString());
    assert.equal(root.attributes['twilio.trace.data_latest'], new Date(T0 + SUMMARY_SLACK_MS + 61_000).toISOString());
  });

  test('without a summary: the span covers where most events are, a stray metrics sample days earlier is clamped off', () => {
    const s = state(
      [event('call.ringing', T0 + 1_000), event('call.answered', T0 + 5_000), event('call.completed', T0 + 90_000)],
      [T0 - 3 * DAY],
    );
    const root = buildRootSpan(s, 'idle', opts);
    assert.equal(root.startMs, T0 + 1_000, 'the first event inside the window');
    assert.equal(root.endMs, T0 + 90_000);
    assert.equal(root.events.length, 3);
    assert.equal(root.attributes['twilio.trace.clamped'], true);
    assert.equal(root.attributes['twilio.trace.outlier_events'], undefined, 'no event was left out');
    assert.equal(root.attributes['twilio.trace.data_earliest'], new Date(T0 - 3 * DAY).toISOString());
    assert.ok(root.endMs - root.startMs <= 2 * MAX_CALL_WINDOW_MS);
  });

  test('without a summary or events: at most MAX_CALL_WINDOW_MS up to the latest data', () => {
    const s = state([], [T0 - 2 * DAY, T0]);
    const root = buildRootSpan(s, 'idle', opts);
    assert.equal(root.endMs, T0);
    assert.equal(root.startMs, T0 - MAX_CALL_WINDOW_MS);
    assert.equal(root.attributes['twilio.trace.clamped'], true);
  });
});
