// In-memory CallStore. Pending calls are kept in activity order (a Map re-inserted on every put), so
// idle scans stop at the first active call. Tombstones of finalised calls expire after their TTL and
// are capped; both bounds keep memory flat under any traffic.
import type { CallState, FinalisedCall } from '../calls/call-state.js';
import type { Clock } from '../clock.js';
import type { CallStore } from './call-store.js';

export class MemoryCallStore implements CallStore {
  private readonly pending = new Map<string, CallState>();
  private readonly finalised = new Map<string, FinalisedCall>();

  constructor(
    private readonly clock: Clock,
    private readonly tombstoneTtlMs: number,
    private readonly maxTombstones = 500_000,
  ) {}

  getPending(callSid: string): Promise<CallState | undefined> {
    return Promise.resolve(this.pending.get(callSid));
  }

  putPending(state: CallState): Promise<void> {
    this.pending.delete(state.callSid);
    this.pending.set(state.callSid, state);
    return Promise.resolve();
  }

  async markFinalised(record: FinalisedCall): Promise<void> {
    this.pending.delete(record.callSid);
    await this.putFinalised(record);
  }

  getFinalised(callSid: string): Promise<FinalisedCall | undefined> {
    this.expireTombstones();
    return Promise.resolve(this.finalised.get(callSid));
  }

  putFinalised(record: FinalisedCall): Promise<void> {
    this.finalised.delete(record.callSid);
    this.finalised.set(record.callSid, record);
    while (this.finalised.size > this.maxTombstones) {
      const oldest = this.finalised.keys().next();
      if (oldest.done === true) break;
      this.finalised.delete(oldest.value);
    }
    return Promise.resolve();
  }

  idleSince(before: number): Promise<string[]> {
    const idle: string[] = [];
    for (const state of this.pending.values()) {
      if (state.lastActivityAt >= before) break;
      idle.push(state.callSid);
    }
    return Promise.resolve(idle);
  }

  oldestPending(): Promise<string | undefined> {
    const first = this.pending.keys().next();
    return Promise.resolve(first.done === true ? undefined : first.value);
  }

  pendingCount(): number {
    return this.pending.size;
  }

  private expireTombstones(): void {
    const cutoff = this.clock.now() - this.tombstoneTtlMs;
    for (const [sid, record] of this.finalised) {
      if (record.finalisedAt >= cutoff) break;
      this.finalised.delete(sid);
    }
  }
}
