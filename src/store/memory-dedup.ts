// In-memory DedupStore with bounded memory. Ids are kept in time slices (generations); a slice is
// dropped whole once everything in it is older than the TTL, so each id lives between TTL and
// TTL + one slice, and expiry costs nothing per id. When the entry cap is reached the oldest slice is
// dropped early: memory stays bounded, and the early eviction is reported so it can be alerted on.
import type { Clock } from '../clock.js';
import type { DedupStore } from './dedup.js';

const SLICES_PER_TTL = 12;

export interface MemoryDedupOptions {
  ttlSeconds: number;
  maxEntries: number;
  clock: Clock;
  /** Called with the number of ids dropped before their TTL because the cap was reached. */
  onEarlyEviction?: (count: number) => void;
}

interface Slice {
  start: number;
  ids: Set<string>;
}

export class MemoryDedupStore implements DedupStore {
  private readonly slices: Slice[] = [];
  private readonly sliceMs: number;
  private count = 0;

  constructor(private readonly opts: MemoryDedupOptions) {
    this.sliceMs = Math.max(1, Math.ceil((opts.ttlSeconds * 1000) / SLICES_PER_TTL));
  }

  has(id: string): Promise<boolean> {
    this.expire();
    for (const slice of this.slices) if (slice.ids.has(id)) return Promise.resolve(true);
    return Promise.resolve(false);
  }

  remember(ids: readonly string[]): Promise<void> {
    this.expire();
    const now = this.opts.clock.now();
    const start = now - (now % this.sliceMs);
    let current = this.slices[this.slices.length - 1];
    if (current === undefined || current.start < start) {
      current = { start, ids: new Set() };
      this.slices.push(current);
    }
    for (const id of ids) {
      if (current.ids.has(id)) continue;
      current.ids.add(id);
      this.count++;
    }
    this.enforceCap();
    return Promise.resolve();
  }

  size(): number {
    return this.count;
  }

  /** Drop slices whose newest possible id is older than the TTL. */
  private expire(): void {
    const cutoff = this.opts.clock.now() - this.opts.ttlSeconds * 1000;
    while (this.slices.length > 0) {
      const oldest = this.slices[0];
      if (oldest === undefined || oldest.start + this.sliceMs > cutoff) break;
      this.slices.shift();
      this.count -= oldest.ids.size;
    }
  }

  private enforceCap(): void {
    while (this.count > this.opts.maxEntries && this.slices.length > 0) {
      const oldest = this.slices[0];
      if (oldest === undefined) break;
      // The newest slice is trimmed id by id instead of dropped whole, so a tiny cap still holds the latest ids.
      if (this.slices.length === 1) {
        const excess = this.count - this.opts.maxEntries;
        let removed = 0;
        for (const id of oldest.ids) {
          if (removed >= excess) break;
          oldest.ids.delete(id);
          removed++;
        }
        this.count -= removed;
        this.opts.onEarlyEviction?.(removed);
        break;
      }
      this.slices.shift();
      this.count -= oldest.ids.size;
      this.opts.onEarlyEviction?.(oldest.ids.size);
    }
  }
}
