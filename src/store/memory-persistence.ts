// Process memory behind StagedStore (STORE_URL=memory:): tests and development only, since a restart
// loses everything. Maps kept in the order the SQLite store's indexes give, so both answer alike.
import type { OutboxEntry } from '../telemetry/outbox-port.js';
import type { CallRow, Persistence, WriteBatch } from './persistence.js';

export class MemoryPersistence implements Persistence {
  readonly durable = false;
  private readonly calls = new Map<string, CallRow>();
  private readonly claims = new Map<string, number>();
  private readonly outbox = new Map<number, OutboxEntry>();
  private readonly leases = new Map<string, { holder: string; expiresAt: number }>();
  private maxSeq = 0;

  getCall(callSid: string): CallRow | undefined {
    return this.calls.get(callSid);
  }

  isClaimed(id: string, now: number): boolean {
    const expiresAt = this.claims.get(id);
    return expiresAt !== undefined && expiresAt > now;
  }

  idleCalls(before: number, limit: number): string[] {
    const idle: [string, number][] = [];
    for (const [sid, row] of this.calls) {
      if (row.record.status === 'pending' && row.lastActivityAt !== undefined && row.lastActivityAt < before) {
        idle.push([sid, row.lastActivityAt]);
      }
    }
    return idle
      .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
      .slice(0, limit)
      .map(([sid]) => sid);
  }

  countPending(): number {
    let n = 0;
    for (const row of this.calls.values()) if (row.record.status === 'pending') n++;
    return n;
  }

  countClaims(): number {
    return this.claims.size;
  }

  outboxPeek(maxSpans: number, afterSeq: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    let spans = 0;
    for (const seq of [...this.outbox.keys()].sort((a, b) => a - b)) {
      if (seq <= afterSeq) continue;
      const entry = this.outbox.get(seq);
      if (entry === undefined) continue;
      if (out.length > 0 && spans + entry.spans.length > maxSpans) break;
      out.push(entry);
      spans += entry.spans.length;
    }
    return out;
  }

  outboxCounts(): { entries: number; spans: number } {
    let spans = 0;
    for (const e of this.outbox.values()) spans += e.spans.length;
    return { entries: this.outbox.size, spans };
  }

  outboxSpanCount(seq: number): number | undefined {
    return this.outbox.get(seq)?.spans.length;
  }

  maxOutboxSeq(): number {
    return this.maxSeq;
  }

  write(batch: WriteBatch): void {
    for (const [sid, { record, lastActivityAt, expiresAt }] of batch.calls) {
      this.calls.set(sid, { record, lastActivityAt, expiresAt });
    }
    for (const c of batch.claims) this.claims.set(c.id, c.expiresAt);
    for (const e of batch.outboxAdd) {
      this.outbox.set(e.seq, e);
      this.maxSeq = Math.max(this.maxSeq, e.seq);
    }
    for (const seq of batch.outboxDelete) this.outbox.delete(seq);
  }

  compact(now: number, limit: number): number {
    let removed = 0;
    for (const [id, expiresAt] of this.claims) {
      if (removed >= limit) return removed;
      if (expiresAt <= now) {
        this.claims.delete(id);
        removed++;
      }
    }
    for (const [sid, row] of this.calls) {
      if (removed >= limit) return removed;
      if (row.expiresAt !== undefined && row.expiresAt <= now) {
        this.calls.delete(sid);
        removed++;
      }
    }
    return removed;
  }

  lease(name: string, holder: string, now: number, ttlMs: number): boolean {
    const held = this.leases.get(name);
    if (held !== undefined && held.holder !== holder && held.expiresAt > now) return false;
    this.leases.set(name, { holder, expiresAt: now + ttlMs });
    return true;
  }

  releaseLease(name: string, holder: string): void {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  sizeBytes(): number {
    return 0;
  }

  close(): void {}
}
