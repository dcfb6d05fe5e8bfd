// What the span shipper needs of the durable span outbox: read the oldest entries, delete an entry only
// after the backend accepted it (or it was given up or quarantined). Implementations live in src/store/.
import type { SpanData } from '../calls/span-data.js';

export interface OutboxEntry {
  /** Increasing in write order. */
  seq: number;
  /** Epoch ms when the entry was written (a call's finalisation, a late span). */
  createdAt: number;
  spans: SpanData[];
}

export interface OutboxPort {
  /** Oldest entries first, stopping before the total span count would exceed `maxSpans` (at least one entry). */
  peek(maxSpans: number, afterSeq?: number): Promise<OutboxEntry[]>;
  /** Deletes entries for good; durable when the promise resolves. */
  ack(seqs: readonly number[]): Promise<void>;
  size(): Promise<{ entries: number; spans: number }>;
}
