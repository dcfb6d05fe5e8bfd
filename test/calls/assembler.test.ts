// CallAssembler without HTTP: real CloudEvents converted by the real event families, applied in a unit
// of work on the memory state store exactly as the pipeline does (claim, apply, commit, effects), with
// a ManualClock; spans are read from the store's outbox as they are committed.
import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import type { LateKind } from '../../src/calls/assembler.js';
import type { CallState, FinaliseReason } from '../../src/calls/call-state.js';
import { lateSpanIdFor, rootSpanIdFor, traceIdFor } from '../../src/calls/ids.js';
import type { SpanData } from '../../src/calls/span-data.js';
import { isConferenceRecord } from '../../src/calls/ports.js';
import type { CallSummaryRecord } from '../../src/events/types.js';
import { IDLE_TIMEOUT_MS, assemblerRig, only, type AssemblerRig } from '../support/assembler-rig.js';
import { callSid, gatewayMetric, sdkEvent, sdkMetric } from '../support/events.js';
import { T0, gatewayEvent, iso, retarget, summaryFor } from '../support/span-tree.js';

type CloudEvent = Record<string, unknown>;

interface Rig extends AssemblerRig {
  pending(callSid: string): Promise<CallState | undefined>;
  outcomes: CallSummaryRecord[];
  finalised: FinaliseReason[];
  late: { kind: LateKind; outcome: 'late_span' | 'ignored' }[];
  /**
   * Converts and applies CloudEvents in one unit of work, received "now": claims their ids but applies
   * every event, so a repeat reaches the assembler and its own once-per-event-id rule is what is tested.
   */
  deliver(...events: CloudEvent[]): Promise<void>;
  /** As `deliver`, but the request fails after its call updates were written, before its commit. */
  deliverAndFail(...events: CloudEvent[]): Promise<void>;
  roots(): SpanData[];
}

function rig(opts: { maxPendingCalls?: number; exposePii?: boolean } = {}): Rig {
  const r = assemblerRig({ now: T0 + 60_000, ...opts });
  return {
    ...r,
    async pending(callSid) {
      const current = await r.record(callSid);
      return current !== undefined && !isConferenceRecord(current) && current.status === 'pending'
        ? current.state
        : undefined;
    },
    get outcomes() {
      return r.effectsOf('finalised').flatMap((e) => (e.summary === undefined ? [] : [e.summary]));
    },
    get finalised() {
      return r.effectsOf('finalised').map((e) => e.reason);
    },
    get late() {
      return r.effectsOf('late').map((e) => ({ kind: e.late, outcome: e.outcome }));
    },
    deliver: (...events) => r.run(events, 'apply-all'),
    deliverAndFail: (...events) => r.run(events, 'apply-all', 'abort'),
    roots: () => r.spans.filter((s) => s.parentSpanId === undefined),
  };
}

const COMPLETE = 'call-summary/complete-carrier-call.json';
const PREDICTED = 'call-summary/predicted-complete.json';
const PARTIAL_V2 = 'call-summary/partial-processing-version-2.json';
const PARTIAL_V1 = 'call-summary/partial-v1-data-as-string.json';
const FAILED = 'call-summary/complete-failed-call.json';

const START = T0;
const END = T0 + 150_000;

describe('CallAssembler: events and summaries in any order', () => {
  test('events then the complete summary: one root span, events sorted by their own timestamps, outcome recorded once', async () => {
    const r = rig();
    const sid = callSid('asm-events-first');
    await r.deliver(
      sdkEvent('asm-events-first', 'network-quality-warning-raised', 'high-jitter', 'WARNING', 61),
      gatewayEvent(sid, 'call.connected', T0 + 8_000),
      sdkEvent('asm-events-first', 'connection', 'disconnected-by-remote', 'INFO', 149.5),
      gatewayEvent(sid, 'call.ringing', T0 + 1_520),
      sdkMetric('asm-events-first', { jitter: 4 }, { second: 30 }),
    );
    assert.equal(r.spans.length, 0, 'nothing is emitted before the complete summary');
    assert.equal(await r.assembler.pendingCount(), 1);
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));

    const root = only(r.spans, 'span');
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.name, 'twilio.voice.call');
    assert.equal(root.traceId, sid.slice(2).toLowerCase());
    assert.equal(root.spanId, rootSpanIdFor(sid));
    assert.deepEqual(
      root.events.map((e) => [e.name, e.timeMs]),
      [
        ['call.ringing', T0 + 1_520],
        ['call.connected', T0 + 8_000],
        ['network-quality-warning-raised.high-jitter', T0 + 61_000],
        ['connection.disconnected-by-remote', T0 + 149_500],
      ],
    );
    assert.equal(root.attributes['twilio.summary.state'], 'complete');
    assert.equal(root.attributes['twilio.finalised_by'], 'complete');
    assert.equal(root.attributes['twilio.call_sid'], sid);
    assert.equal(r.outcomes.length, 1, 'recordOutcome called once');
    assert.equal(r.outcomes[0]?.stage, 'complete');
    assert.deepEqual(r.finalised, ['complete']);
    assert.equal(await r.assembler.pendingCount(), 0);
    assert.deepEqual(r.late, []);
  });

  test('the complete summary before the events: the events become late child spans, not a second root', async () => {
    const r = rig();
    const sid = callSid('asm-summary-first');
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    const root = only(r.roots(), 'root span');
    assert.deepEqual(root.events, []);
    await r.deliver(
      gatewayEvent(sid, 'call.connected', T0 + 8_000),
      sdkEvent('asm-summary-first', 'connection', 'accepted-by-remote', 'INFO', 8.25),
    );
    assert.equal(r.roots().length, 1, 'still one root span');
    const lates = r.spans.filter((s) => s.parentSpanId !== undefined);
    assert.equal(lates.length, 2);
    assert.deepEqual(
      lates.map((s) => s.events.map((e) => e.name)),
      [['call.connected'], ['connection.accepted-by-remote']],
    );
    assert.equal(r.outcomes.length, 1);
    assert.deepEqual(r.late, [
      { kind: 'call-event', outcome: 'late_span' },
      { kind: 'call-event', outcome: 'late_span' },
    ]);
  });

  test('partial v3, partial v1, predicted-complete (v2), complete (v4) scrambled: final attributes from complete; a higher-version partial after predicted-complete does not override it', async () => {
    const r = rig();
    const sid = callSid('asm-scrambled');
    // predicted-complete (v2) first, then a partial with a HIGHER version (3), then the v1 partial
    // (data as a JSON string, saying canceled/client: it must never show).
    await r.deliver(summaryFor(PREDICTED, sid, { processingVersion: 2, start: START, end: END }));
    await r.deliver(summaryFor(PARTIAL_V2, sid, { processingVersion: 3, start: START, end: END + 999_000 }));
    await r.deliver(
      retarget(PARTIAL_V1, sid, { processing_version: 1, start_time: iso(START), end_time: iso(END + 5_000) }),
    );
    await r.deliver(sdkEvent('asm-scrambled', 'connection', 'accepted-by-remote', 'INFO', 8.25));
    assert.equal(r.spans.length, 0, 'partials and predicted-complete do not finalise');
    assert.equal(r.outcomes.length, 0, 'nor record the once-per-call outcome');

    const pending = await r.pending(sid);
    assert.equal(pending?.summary?.stage, 'predicted-complete', 'the pending call keeps predicted-complete');
    assert.equal(pending?.summary?.processingVersion, 2);
    assert.equal(pending?.summary?.endTime, END);

    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    const root = only(r.spans, 'span');
    assert.equal(root.attributes['twilio.summary.state'], 'complete');
    assert.equal(root.attributes['twilio.summary.processing_version'], 4);
    assert.deepEqual(root.attributes['twilio.call.tags'], ['high_pdd'], 'tags only the complete summary has');
    assert.equal(root.attributes['twilio.call.state'], 'completed');
    assert.equal(root.attributes['twilio.call.type'], 'carrier');
    assert.equal(root.attributes['twilio.call.disconnected_by'], 'callee');
    assert.equal(root.startMs, START);
    assert.equal(root.endMs, END);
    assert.equal(r.outcomes.length, 1);
    assert.equal(r.outcomes[0]?.stage, 'complete');
    assert.deepEqual(
      root.events.map((e) => e.name),
      ['connection.accepted-by-remote'],
    );
  });

  test('a higher-version partial after predicted-complete does not override it at idle finalisation either', async () => {
    const r = rig();
    const sid = callSid('asm-predicted-idle');
    await r.deliver(summaryFor(PREDICTED, sid, { processingVersion: 2, start: START, end: END }));
    await r.deliver(summaryFor(PARTIAL_V2, sid, { processingVersion: 3, start: START, end: END + 999_000 }));
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = only(r.spans, 'span');
    assert.equal(root.attributes['twilio.summary.state'], 'predicted-complete');
    assert.equal(root.attributes['twilio.summary.processing_version'], 2);
    assert.equal(root.endMs, END, 'end_time from predicted-complete, not from the later partial');
    assert.equal(
      root.attributes['twilio.call.disconnected_by'],
      'callee',
      'predicted-complete knows who hung up; the partial does not',
    );
    assert.equal(r.outcomes[0]?.stage, 'predicted-complete');
  });

  test('partials alone: the higher processing_version wins whatever the arrival order', async () => {
    const r = rig();
    const sid = callSid('asm-partials');
    await r.deliver(summaryFor(PARTIAL_V2, sid, { processingVersion: 3, start: START, end: END }));
    await r.deliver(
      retarget(PARTIAL_V1, sid, { processing_version: 1, start_time: iso(START), end_time: iso(START + 5_000) }),
    );
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = only(r.spans, 'span');
    assert.equal(root.attributes['twilio.summary.state'], 'partial');
    assert.equal(root.attributes['twilio.summary.processing_version'], 3);
    assert.equal(root.attributes['twilio.call.type'], 'carrier');
    assert.equal(root.endMs, END);
  });

  test('the same complete summary twice under new CloudEvent ids: no second root span, counted as ignored late data', async () => {
    const r = rig();
    const sid = callSid('asm-repeat');
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    r.clock.advance(60_000);
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    assert.equal(r.spans.length, 1, 'one span in all');
    assert.deepEqual(r.finalised, ['complete']);
    assert.equal(r.outcomes.length, 1);
    assert.deepEqual(r.late, [
      { kind: 'call-summary', outcome: 'ignored' },
      { kind: 'call-summary', outcome: 'ignored' },
    ]);
  });

  test('older snapshots after finalisation (partial, predicted-complete) are ignored, not late spans', async () => {
    const r = rig();
    const sid = callSid('asm-older-after');
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    await r.deliver(summaryFor(PARTIAL_V2, sid, { processingVersion: 9, start: START, end: END }));
    await r.deliver(summaryFor(PREDICTED, sid, { processingVersion: 9, start: START, end: END }));
    assert.equal(r.spans.length, 1);
    assert.deepEqual(
      r.late.map((l) => l.outcome),
      ['ignored', 'ignored'],
    );
  });

  test('an event after finalisation: a late child span of the root, in the CallSid trace, twilio.late=true', async () => {
    const r = rig();
    const sid = callSid('asm-late-event');
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    r.clock.advance(10 * 60_000);
    const lateEvent = sdkEvent('asm-late-event', 'feedback', 'received', 'INFO', 160);
    await r.deliver(lateEvent);
    assert.equal(r.spans.length, 2);
    const late = r.spans[1];
    assert.ok(late);
    assert.equal(late.name, 'twilio.voice.call.late');
    assert.equal(late.traceId, sid.slice(2).toLowerCase());
    assert.equal(late.traceId, traceIdFor(sid));
    assert.equal(late.parentSpanId, rootSpanIdFor(sid));
    assert.equal(late.spanId, lateSpanIdFor(sid, String(lateEvent.id)));
    assert.notEqual(late.spanId, rootSpanIdFor(sid));
    assert.equal(late.attributes['twilio.late'], true);
    assert.equal(late.attributes['twilio.call_sid'], sid);
    assert.deepEqual(
      late.events.map((e) => [e.name, e.timeMs]),
      [['feedback.received', T0 + 160_000]],
    );
    assert.equal(late.startMs, T0 + 160_000);
    assert.deepEqual(r.late, [{ kind: 'call-event', outcome: 'late_span' }]);
    assert.equal(r.outcomes.length, 1, 'late data never records the call outcome again');
    assert.deepEqual(r.finalised, ['complete']);
  });

  test('a metrics sample after finalisation is ignored (metrics are not span data)', async () => {
    const r = rig();
    const sid = callSid('asm-late-metric');
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    await r.deliver(gatewayMetric('asm-late-metric', 'carrier_edge', 'inbound', { packets_received: 10 }));
    assert.equal(r.spans.length, 1);
    assert.deepEqual(r.late, [{ kind: 'call-metric', outcome: 'ignored' }]);
  });
});

describe('CallAssembler: finalisation without a complete summary', () => {
  test('idle: nothing at timeout - 1 ms; after the timeout sweep() finalises with summary.state none, finalised_by idle', async () => {
    const r = rig();
    const name = 'asm-idle';
    await r.deliver(
      sdkEvent(name, 'connection', 'accepted-by-remote', 'INFO', 2),
      sdkMetric(name, { jitter: 3 }, { second: 1 }),
    );
    r.clock.advance(5_000);
    await r.deliver(
      sdkMetric(name, { jitter: 5 }, { second: 40 }),
      sdkEvent(name, 'connection', 'disconnected-by-local', 'INFO', 39),
    );
    // The idle timeout counts from the last data received.
    r.clock.advance(IDLE_TIMEOUT_MS - 1);
    assert.equal(await r.assembler.sweep(), 0);
    assert.equal(r.spans.length, 0, 'nothing finalised one ms before the timeout');
    assert.deepEqual(r.finalised, []);
    r.clock.advance(2);
    assert.equal(await r.assembler.sweep(), 1);
    const root = only(r.spans, 'span');
    assert.equal(root.attributes['twilio.summary.state'], 'none');
    assert.equal(root.attributes['twilio.finalised_by'], 'idle');
    assert.equal(root.status.code, 'unset');
    // No summary: earliest and latest timestamps seen, metrics samples included.
    assert.equal(root.startMs, T0 + 1_000);
    assert.equal(root.endMs, T0 + 40_000);
    assert.deepEqual(
      root.events.map((e) => e.name),
      ['connection.accepted-by-remote', 'connection.disconnected-by-local'],
    );
    assert.deepEqual(r.finalised, ['idle']);
    assert.equal(r.outcomes.length, 0, 'no summary, no once-per-call outcome');
    assert.equal(await r.assembler.sweep(), 0, 'a second sweep finds nothing');
    assert.equal(r.spans.length, 1);
  });

  test('idle with a partial summary: summary.state partial, times from the summary, outcome recorded', async () => {
    const r = rig();
    const sid = callSid('asm-idle-partial');
    await r.deliver(summaryFor(PARTIAL_V2, sid, { processingVersion: 2, start: START, end: END }));
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = only(r.spans, 'span');
    assert.equal(root.attributes['twilio.summary.state'], 'partial');
    assert.equal(root.attributes['twilio.finalised_by'], 'idle');
    assert.equal(root.startMs, START);
    assert.equal(root.endMs, END);
    assert.equal(r.outcomes.length, 1);
  });

  test('a complete summary after an idle finalisation goes out as a late summary span, never a second root', async () => {
    const r = rig();
    const sid = callSid('asm-idle-then-complete');
    await r.deliver(summaryFor(PARTIAL_V2, sid, { processingVersion: 2, start: START, end: END }));
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    assert.equal(r.roots().length, 1);
    const late = only(
      r.spans.filter((s) => s.parentSpanId !== undefined),
      'late span',
    );
    assert.equal(late.parentSpanId, rootSpanIdFor(sid));
    assert.equal(late.attributes['twilio.late'], true);
    assert.equal(late.attributes['twilio.summary.state'], 'complete');
    assert.deepEqual(r.late, [{ kind: 'call-summary', outcome: 'late_span' }]);
    // A second copy of that complete summary is now a repeat.
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    assert.equal(r.spans.length, 2);
    assert.deepEqual(r.late.at(-1), { kind: 'call-summary', outcome: 'ignored' });
  });

  test('only idle calls are swept: a call with recent data stays pending', async () => {
    const r = rig();
    await r.deliver(sdkEvent('asm-sweep-old', 'connection', 'accepted-by-remote', 'INFO', 1));
    r.clock.advance(IDLE_TIMEOUT_MS - 10_000);
    await r.deliver(sdkEvent('asm-sweep-new', 'connection', 'accepted-by-remote', 'INFO', 1));
    r.clock.advance(10_001);
    assert.equal(await r.assembler.sweep(), 1);
    assert.equal(only(r.spans, 'span').attributes['twilio.call_sid'], callSid('asm-sweep-old'));
    assert.equal(await r.assembler.pendingCount(), 1);
  });

  test('MAX_PENDING_CALLS: a new call finalises the least recently active call (reason capacity)', async () => {
    const r = rig({ maxPendingCalls: 2 });
    await r.deliver(sdkEvent('asm-cap-a', 'connection', 'accepted-by-remote', 'INFO', 1));
    r.clock.advance(1_000);
    await r.deliver(sdkEvent('asm-cap-b', 'connection', 'accepted-by-remote', 'INFO', 1));
    r.clock.advance(1_000);
    // A becomes the most recently active call; B is now the least recently active.
    await r.deliver(sdkMetric('asm-cap-a', { jitter: 2 }, { second: 5 }));
    r.clock.advance(1_000);
    assert.equal(r.spans.length, 0);
    await r.deliver(sdkEvent('asm-cap-c', 'connection', 'accepted-by-remote', 'INFO', 1));
    const root = only(r.spans, 'span');
    assert.equal(root.attributes['twilio.call_sid'], callSid('asm-cap-b'));
    assert.equal(root.attributes['twilio.finalised_by'], 'capacity');
    assert.equal(root.attributes['twilio.summary.state'], 'none');
    assert.deepEqual(r.finalised, ['capacity']);
    assert.equal(await r.assembler.pendingCount(), 2);
    // Data for a pending call never evicts anything.
    await r.deliver(sdkEvent('asm-cap-a', 'connection', 'disconnected-by-local', 'INFO', 9));
    assert.equal(r.spans.length, 1);
  });
});

describe('CallAssembler: root span status and times', () => {
  test('a failed call (call_state fail) has status error with the SIP response and Q.850 cause in the message', async () => {
    const r = rig();
    const sid = callSid('asm-failed');
    await r.deliver(summaryFor(FAILED, sid, { start: START, end: START + 3_000 }));
    const root = only(r.spans, 'span');
    assert.equal(root.status.code, 'error');
    assert.ok(root.status.message?.includes('404'), `message names SIP 404: ${root.status.message}`);
    assert.equal(root.status.message, 'call failed: SIP 404, Q.850 cause 1');
    assert.equal(root.attributes['twilio.call.state'], 'fail');
    assert.equal(root.attributes['twilio.call.last_sip_response'], 404);
  });

  test('a completed call has status unset', async () => {
    const r = rig();
    const sid = callSid('asm-ok');
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    assert.deepEqual(only(r.spans, 'span').status, { code: 'unset', message: undefined });
  });

  test('root start/end are the summary start_time/end_time even when events lie outside them', async () => {
    const r = rig();
    const sid = callSid('asm-times-summary');
    await r.deliver(
      gatewayEvent(sid, 'call.initiated', START - 2_000),
      gatewayEvent(sid, 'call.completed', END + 1_000),
    );
    await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
    const root = only(r.spans, 'span');
    assert.equal(root.startMs, START);
    assert.equal(root.endMs, END);
  });

  test('without a summary: earliest and latest timestamps seen (events and metrics), whatever the arrival order', async () => {
    const r = rig();
    const name = 'asm-times-seen';
    await r.deliver(
      sdkMetric(name, { jitter: 3 }, { second: 70 }),
      sdkEvent(name, 'connection', 'accepted-by-remote', 'INFO', 12),
      gatewayMetric(name, 'carrier_edge', 'inbound', { packets_received: 5 }, { tick: 9 }),
      sdkEvent(name, 'connection', 'outgoing', 'INFO', 3.5),
    );
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = only(r.spans, 'span');
    assert.equal(root.startMs, T0 + 3_500);
    assert.equal(root.endMs, T0 + 90_000);
  });

  test('a summary without end_time: start from the summary, end the latest timestamp seen', async () => {
    const r = rig();
    const sid = callSid('asm-times-open');
    await r.deliver(
      gatewayEvent(sid, 'call.connected', START + 8_000),
      gatewayEvent(sid, 'call.completed', START + 60_000),
    );
    await r.deliver(retarget(PARTIAL_V2, sid, { start_time: iso(START), created_time: iso(START), end_time: null }));
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    const root = only(r.spans, 'span');
    assert.equal(root.startMs, START);
    assert.equal(root.endMs, START + 60_000);
  });
});

describe('CallAssembler: redaction', () => {
  test('numbers, IPs and client identity stay off the spans by default and appear with exposePii', async () => {
    for (const exposePii of [false, true]) {
      const r = rig({ exposePii });
      const sid = callSid(`asm-pii-${exposePii}`);
      await r.deliver(
        gatewayEvent(sid, 'call.connected', T0 + 8_000),
        sdkEvent(`asm-pii-${exposePii}`, 'connection', 'accepted-by-remote', 'INFO', 8),
      );
      await r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END }));
      const text = JSON.stringify(r.spans);
      for (const pii of ['+14155550101', '+13035550187', '203.0.113.24', '54.172.60.3', '192.0.2.45', 'agent_jdoe']) {
        assert.equal(text.includes(pii), exposePii, `${pii} ${exposePii ? 'exposed' : 'redacted'}`);
      }
    }
  });
});

// The CallStore interface is async so that a durable or shared store can do I/O, and the pipeline
// feeds handlers from concurrent webhook requests (dispatch orders events within one request only).
// These calls overlap exactly as two requests would once the store awaits anything.
describe('CallAssembler: each event applies once by its CloudEvent id', () => {
  test('an event applied again (a retry whose first request failed after staging) is on the root span once', async () => {
    const r = rig();
    const name = 'asm-idempotent';
    const ev = sdkEvent(name, 'connection', 'accepted-by-remote', 'INFO', 3);
    await r.deliver(ev);
    await r.deliver(ev);
    await r.deliver(summaryFor(COMPLETE, callSid(name), { processingVersion: 4, start: START, end: END }));
    const root = only(r.spans, 'span');
    assert.deepEqual(
      root.events.map((e) => e.name),
      ['connection.accepted-by-remote'],
    );
  });

  test('a retry after the call was finalised meanwhile is a repeat, not a late span (root or late span, the event is there once)', async () => {
    const r = rig();
    const name = 'asm-retry-after-finalised';
    const ev = sdkEvent(name, 'connection', 'accepted-by-remote', 'INFO', 3);
    // The first attempt's update is written (a shared store writes it at once), then the request fails.
    await r.deliverAndFail(ev);
    await r.deliver(summaryFor(COMPLETE, callSid(name), { processingVersion: 4, start: START, end: END }));
    await r.deliver(ev); // Twilio's retry: its claim is new
    const late = sdkEvent(name, 'connection', 'disconnected-by-remote', 'INFO', 9);
    await r.deliverAndFail(late);
    await r.deliver(late);
    await r.deliver(sdkEvent(name, 'connection', 'reconnected', 'INFO', 10));
    assert.deepEqual(
      only(r.roots(), 'root span').events.map((e) => e.name),
      ['connection.accepted-by-remote'],
    );
    assert.deepEqual(
      r.spans.filter((s) => s.parentSpanId !== undefined).flatMap((s) => s.events.map((e) => e.name)),
      ['connection.disconnected-by-remote', 'connection.reconnected'],
      'each late event on one late span',
    );
    assert.deepEqual(r.late, [
      { kind: 'call-event', outcome: 'ignored' },
      { kind: 'call-event', outcome: 'ignored' },
      { kind: 'call-event', outcome: 'late_span' },
    ]);
  });
});

describe('CallAssembler: concurrent deliveries for one call', () => {
  test('two events for a new call delivered concurrently are both on the root span', async () => {
    const r = rig();
    const name = 'asm-concurrent-events';
    await Promise.all([
      r.deliver(sdkEvent(name, 'connection', 'outgoing', 'INFO', 1)),
      r.deliver(sdkEvent(name, 'connection', 'accepted-by-remote', 'INFO', 2)),
    ]);
    await r.deliver(summaryFor(COMPLETE, callSid(name), { processingVersion: 4, start: START, end: END }));
    const root = only(r.spans, 'span');
    assert.deepEqual(
      root.events.map((e) => e.name),
      ['connection.outgoing', 'connection.accepted-by-remote'],
      'no event lost',
    );
  });

  test('an event racing the complete summary is never dropped and never makes a second root span', async () => {
    const r = rig();
    const name = 'asm-concurrent-summary';
    const sid = callSid(name);
    await Promise.all([
      r.deliver(summaryFor(COMPLETE, sid, { processingVersion: 4, start: START, end: END })),
      r.deliver(sdkEvent(name, 'connection', 'accepted-by-remote', 'INFO', 8)),
    ]);
    r.clock.advance(IDLE_TIMEOUT_MS + 1);
    await r.assembler.sweep();
    assert.equal(r.roots().length, 1, 'one root span per call');
    const names = r.spans.flatMap((s) => s.events.map((e) => e.name));
    assert.deepEqual(names, ['connection.accepted-by-remote'], 'the event is on the root or on a late span, once');
    assert.deepEqual(r.finalised, ['complete']);
  });
});
