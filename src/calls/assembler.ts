// Assembles everything Twilio sends about a call into one trace. Events and summaries arrive within
// ~90 s (events), ~10 min (partials) and up to 30 min (complete) after the call, in any order and at
// least once (https://www.twilio.com/docs/voice/voice-insights/event-streams/call-insights-events),
// so a call stays pending until its complete summary or until it has been idle for a while.
// Each input is one atomic update of the call's stored record (call-reducer.ts); finalisation writes
// the tombstone and the root span to the outbox in the same commit, and its effects (once-per-call
// metrics) run only after that commit, so each happens exactly once per call.
import type { Clock } from '../clock.js';
import type { AcceptedEvent } from '../pipeline/dispatch.js';
import type { AfterCommit, IngestTx, StateStage, TxSource } from '../pipeline/ports.js';
import {
  reduceCallConferenceLink,
  reduceCallEvent,
  reduceCallMetric,
  reduceCallSummary,
  reduceFinalise,
  type CallEffect,
  type ReduceContext,
} from './call-reducer.js';
import { reduceConferenceSummary, reduceParticipantSummary } from './conference-reducer.js';
import type { CallIndex, CallTx, LeasePort } from './ports.js';

export type { CallEffect, LateKind } from './call-reducer.js';

/** Calls finalised per unit of work by the sweep; bounds one transaction's size. */
const SWEEP_BATCH = 500;
const SWEEP_LEASE = 'idle-sweep';
/** Three missed sweeps (every 30 s) and another process takes the sweep over. */
const SWEEP_LEASE_MS = 90_000;

export interface CallAssemblerDeps {
  index: CallIndex;
  lease: LeasePort;
  /** Units of work for the sweep (requests bring their own). */
  store: TxSource<IngestTx & CallTx>;
  clock: Clock;
  /** Runs after the commit that made the effects durable. */
  onEffects: (effects: readonly CallEffect[]) => void;
  exposePii: boolean;
  idleTimeoutMs: number;
  maxPendingCalls: number;
  /** This process, for the sweep lease. */
  holder: string;
  /** How long the sweep lease lasts without renewal (default 90 s: three missed sweeps of 30 s). */
  sweepLeaseMs?: number;
}

export class CallAssembler implements StateStage<CallTx> {
  constructor(private readonly deps: CallAssemblerDeps) {}

  async apply(events: readonly AcceptedEvent[], tx: CallTx): Promise<AfterCommit> {
    const effects: CallEffect[] = [];
    const base = { now: this.deps.clock.now(), exposePii: this.deps.exposePii };
    let touched = false;
    for (const { record, meta } of events) {
      const ctx: ReduceContext = { ...base, eventId: meta.info.id, receivedAt: meta.receivedAt };
      switch (record.kind) {
        case 'call-event':
          effects.push(...(await tx.update(record.callSid, (c) => reduceCallEvent(c, record, ctx))));
          touched = true;
          break;
        case 'call-metric':
          effects.push(...(await tx.update(record.callSid, (c) => reduceCallMetric(c, record, ctx))));
          touched = true;
          break;
        case 'call-summary':
          effects.push(...(await tx.update(record.callSid, (c) => reduceCallSummary(c, record, ctx))));
          touched = true;
          break;
        case 'conference-summary':
          effects.push(...(await tx.update(record.conferenceSid, (c) => reduceConferenceSummary(c, record, ctx))));
          touched = true;
          break;
        case 'participant-summary': {
          effects.push(...(await tx.update(record.conferenceSid, (c) => reduceParticipantSummary(c, record, ctx))));
          // The leg's call links back to the conference: same unit of work, so both or neither commit.
          const { callSid } = record;
          if (callSid !== undefined && callSid !== record.conferenceSid) {
            const leg = { ...record, callSid };
            effects.push(...(await tx.update(callSid, (c) => reduceCallConferenceLink(c, leg, ctx))));
          }
          touched = true;
          break;
        }
        case 'sink-test':
          break;
      }
    }
    if (touched) effects.push(...(await this.makeRoom(tx)));
    return () => this.deps.onEffects(effects);
  }

  /**
   * A full store makes room by finalising the least recently active calls early, rather than refusing
   * data (MAX_PENDING_CALLS bounds memory and disk; finalised_by=capacity says why).
   */
  private async makeRoom(tx: CallTx): Promise<CallEffect[]> {
    const effects: CallEffect[] = [];
    let excess = (await this.deps.index.pendingCount()) - this.deps.maxPendingCalls;
    if (excess <= 0) return effects;
    const ctx = { now: this.deps.clock.now(), exposePii: this.deps.exposePii };
    const oldest = await this.deps.index.idleCalls(Number.MAX_SAFE_INTEGER, excess);
    for (const callSid of oldest) {
      if (excess-- <= 0) break;
      effects.push(...(await tx.update(callSid, (c) => reduceFinalise(c, 'capacity', ctx))));
    }
    return effects;
  }

  /**
   * Finalises every call and conference idle for longer than `idleMs` (default CALL_IDLE_TIMEOUT);
   * called periodically; returns how many it finalised.
   * Only the holder of the sweep lease sweeps, so with a shared store one replica finalises each call.
   */
  async sweep(idleMs = this.deps.idleTimeoutMs): Promise<number> {
    const leaseMs = this.deps.sweepLeaseMs ?? SWEEP_LEASE_MS;
    if (!(await this.deps.lease.acquire(SWEEP_LEASE, this.deps.holder, leaseMs))) return 0;
    let finalised = 0;
    for (;;) {
      const now = this.deps.clock.now();
      const before = now - idleMs;
      const idle = await this.deps.index.idleCalls(before, SWEEP_BATCH);
      if (idle.length === 0) break;
      const tx = this.deps.store.begin();
      const effects: CallEffect[] = [];
      try {
        for (const callSid of idle) {
          const ctx = { now, exposePii: this.deps.exposePii };
          effects.push(...(await tx.update(callSid, (c) => reduceFinalise(c, 'idle', ctx, before))));
        }
        await tx.commit();
      } catch (err) {
        tx.abort();
        throw err;
      }
      this.deps.onEffects(effects);
      // Conferences live in the same idle index: a batch of only conferences is work done too, or the
      // sweep would stop after it and leave the rest of the idle calls to the next round.
      const done = effects.filter((e) => e.kind === 'finalised' || e.kind === 'conference-finalised').length;
      finalised += done;
      if (done === 0 || idle.length < SWEEP_BATCH) break;
    }
    return finalised;
  }

  pendingCount(): Promise<number> {
    return this.deps.index.pendingCount();
  }

  /** Hands the sweep to another replica at once (shutdown) instead of after the lease's TTL. */
  releaseSweep(): Promise<void> {
    return this.deps.lease.release(SWEEP_LEASE, this.deps.holder);
  }
}
