// Assembles everything Twilio sends about a call into one trace. Events and summaries arrive within
// ~90 s (events), ~10 min (partials) and up to 30 min (complete) after the call, in any order and at
// least once (https://www.twilio.com/docs/voice/voice-insights/event-streams/call-insights-events),
// so a call stays pending until its complete summary or until it has been idle for a while.
// Finalisation emits the root span and records the once-per-call metrics, exactly once per call.
import type { Clock } from '../clock.js';
import type { CallEventRecord, CallMetricSample, CallSummaryRecord } from '../events/types.js';
import type { EventHandlers, EventMeta } from '../pipeline/dispatch.js';
import type { CallStore } from '../store/call-store.js';
import {
  addEvent,
  applySummary,
  isNewerSummary,
  newCallState,
  touch,
  type CallState,
  type FinaliseReason,
} from './call-state.js';
import type { SpanData } from './span-data.js';
import { KeyedLock } from './keyed-lock.js';
import { buildLateEventSpan, buildLateSummarySpan, buildRootSpan } from './trace-builder.js';

export type LateKind = 'call-event' | 'call-summary' | 'call-metric';

export interface CallAssemblerDeps {
  store: CallStore;
  clock: Clock;
  /** Receives finished spans (root and late); telemetry/ exports them. */
  emitSpans: (spans: SpanData[]) => void;
  /** Once-per-call metrics for a finalised call that had a summary. */
  recordOutcome: (summary: CallSummaryRecord) => void;
  onFinalised: (reason: FinaliseReason) => void;
  onLateData: (kind: LateKind, outcome: 'late_span' | 'ignored') => void;
  exposePii: boolean;
  idleTimeoutMs: number;
  maxPendingCalls: number;
}

export class CallAssembler implements EventHandlers {
  private readonly lock = new KeyedLock();

  constructor(private readonly deps: CallAssemblerDeps) {}

  onCallEvent(event: CallEventRecord, meta: EventMeta): Promise<void> {
    return this.lock.run(event.callSid, () => this.callEvent(event, meta));
  }

  onCallMetric(sample: CallMetricSample): Promise<void> {
    return this.lock.run(sample.callSid, () => this.callMetric(sample));
  }

  onCallSummary(summary: CallSummaryRecord, meta: EventMeta): Promise<void> {
    return this.lock.run(summary.callSid, () => this.callSummary(summary, meta));
  }

  onSinkTest(): void {}

  /** Finalises every call idle for longer than `idleMs` (default CALL_IDLE_TIMEOUT); called periodically. */
  async sweep(idleMs = this.deps.idleTimeoutMs): Promise<number> {
    const idle = await this.deps.store.idleSince(this.deps.clock.now() - idleMs);
    let finalised = 0;
    for (const callSid of idle) {
      finalised += await this.lock.run(callSid, async () => {
        // Data may have arrived since the scan: only a call still pending and still idle is finalised.
        const state = await this.deps.store.getPending(callSid);
        if (state === undefined || state.lastActivityAt >= this.deps.clock.now() - idleMs) return 0;
        await this.finalise(state, 'idle');
        return 1;
      });
    }
    return finalised;
  }

  pendingCount(): number {
    return this.deps.store.pendingCount();
  }

  private async callEvent(event: CallEventRecord, meta: EventMeta): Promise<void> {
    if (await this.deps.store.getFinalised(event.callSid)) {
      this.deps.emitSpans([buildLateEventSpan(event, meta.info.id, this.options())]);
      this.deps.onLateData('call-event', 'late_span');
      return;
    }
    const state = await this.pending(event.callSid, event.accountSid);
    touch(state, event.timestamp, this.deps.clock.now(), event.accountSid);
    addEvent(state, event);
    await this.deps.store.putPending(state);
  }

  /** Samples are metrics, not span events; they only widen the call's time range and keep it active. */
  private async callMetric(sample: CallMetricSample): Promise<void> {
    if (await this.deps.store.getFinalised(sample.callSid)) {
      this.deps.onLateData('call-metric', 'ignored');
      return;
    }
    const state = await this.pending(sample.callSid, sample.accountSid);
    touch(state, sample.timestamp, this.deps.clock.now(), sample.accountSid);
    await this.deps.store.putPending(state);
  }

  private async callSummary(summary: CallSummaryRecord, meta: EventMeta): Promise<void> {
    const finalised = await this.deps.store.getFinalised(summary.callSid);
    if (finalised) {
      // A repeat of what the root span already says is no news; anything newer goes out as a late span.
      if (!isNewerSummary(summary, { stage: finalised.summaryStage, processingVersion: finalised.processingVersion })) {
        this.deps.onLateData('call-summary', 'ignored');
        return;
      }
      this.deps.emitSpans([buildLateSummarySpan(summary, meta.info.id, meta.receivedAt, this.options())]);
      await this.deps.store.putFinalised({
        ...finalised,
        summaryStage: summary.stage,
        processingVersion: summary.processingVersion,
      });
      this.deps.onLateData('call-summary', 'late_span');
      return;
    }
    const state = await this.pending(summary.callSid, summary.accountSid);
    touch(state, undefined, this.deps.clock.now(), summary.accountSid);
    applySummary(state, summary);
    if (state.summary?.stage === 'complete') await this.finalise(state, 'complete');
    else await this.deps.store.putPending(state);
  }

  private async pending(callSid: string, accountSid: string | undefined): Promise<CallState> {
    const existing = await this.deps.store.getPending(callSid);
    if (existing) return existing;
    // A full store makes room by finalising the least recently active call early, rather than refusing
    // data. That call is finalised under its own lock; no cycle is possible, since only a call that is
    // not pending yet ever waits here, and only for a pending one.
    while (this.deps.store.pendingCount() >= this.deps.maxPendingCalls) {
      const oldest = await this.deps.store.oldestPending();
      if (oldest === undefined) break;
      await this.lock.run(oldest, async () => {
        const state = await this.deps.store.getPending(oldest);
        if (state !== undefined) await this.finalise(state, 'capacity');
      });
    }
    return newCallState(callSid, accountSid, this.deps.clock.now());
  }

  private async finalise(state: CallState, reason: FinaliseReason): Promise<void> {
    await this.deps.store.markFinalised({
      callSid: state.callSid,
      finalisedAt: this.deps.clock.now(),
      reason,
      summaryStage: state.summary?.stage,
      processingVersion: state.summary?.processingVersion ?? 0,
    });
    if (state.summary) this.deps.recordOutcome(state.summary);
    this.deps.emitSpans([buildRootSpan(state, reason, this.options())]);
    this.deps.onFinalised(reason);
  }

  private options() {
    return { exposePii: this.deps.exposePii };
  }
}
