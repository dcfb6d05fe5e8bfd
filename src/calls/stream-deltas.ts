// Per-interval figures derived from consecutive `cumulative` snapshots of one gateway stream (a call's
// edge + direction). Real `call-metrics.gateway` samples carry packet counts in `interval` but jitter
// only in `cumulative` (avg and max since the call started), and some carry `cumulative` alone
// (reference section 3). Pure functions: the reducer keeps the last snapshot per stream in the call's
// state and returns what it derives as an effect, recorded after the commit.
//
// Rules (README, "Gateway jitter from cumulative snapshots"):
// - Only what the sample's `interval` lacks is derived: an interval value is never counted twice.
// - A snapshot not newer than the remembered one (same timestamp: a replay; older: out of order) is
//   ignored and changes nothing.
// - Packets: the difference between consecutive snapshots; the stream's first snapshot counts in full
//   (its counts run from zero at the start of the stream). A lower value (a reset) becomes the new
//   baseline and yields nothing, so a counter never goes down or counts a total twice.
// - Jitter: packet-weighted, (avg2*n2 - avg1*n1) / (n2 - n1) with n = packets received, clamped to
//   [0, max2]; when the counts do not allow it, the new maximum if `max` rose in the interval, else the
//   cumulative average. Nothing when no packet arrived in the interval (n2 = n1) or after a reset.
// - First snapshot of a stream: its cumulative average is the interval figure only when it covers at
//   most FIRST_SNAPSHOT_MAX_PACKETS (the call's first ~20 s); a longer one (the exporter joined a call
//   late) only becomes the baseline.
import type { MetricValues } from '../events/types.js';

/** 20 s of 20 ms audio: a first snapshot this short is (close to) one interval. */
export const FIRST_SNAPSHOT_MAX_PACKETS = 1000;

/** The last cumulative snapshot of one stream. Seconds for jitter; absent fields were not sent. */
export interface StreamSnapshot {
  /** Sample timestamp, epoch ms. */
  at: number;
  received?: number;
  lost?: number;
  sent?: number;
  jitterAvg?: number;
  jitterMax?: number;
}

/** Figures for the interval ending at the new snapshot, in base units. */
export interface DerivedValues {
  jitterSeconds?: number;
  packetsReceived?: number;
  packetsLost?: number;
  packetsSent?: number;
  /** 0..1, from the packet counts of the interval (its own, or derived). */
  packetLossRatio?: number;
}

export interface StreamStep {
  /** The snapshot to remember; undefined when the sample is not newer (nothing changes). */
  next: StreamSnapshot | undefined;
  derived: DerivedValues;
}

export function streamKey(edge: string | undefined, direction: string): string {
  return `${edge ?? 'unknown'}/${direction}`;
}

export function snapshotOf(at: number, cumulative: MetricValues): StreamSnapshot {
  const s: StreamSnapshot = { at };
  if (cumulative.packetsReceived !== undefined) s.received = cumulative.packetsReceived;
  if (cumulative.packetsLost !== undefined) s.lost = cumulative.packetsLost;
  if (cumulative.packetsSent !== undefined) s.sent = cumulative.packetsSent;
  if (cumulative.jitterSeconds?.avg !== undefined) s.jitterAvg = cumulative.jitterSeconds.avg;
  if (cumulative.jitterSeconds?.max !== undefined) s.jitterMax = cumulative.jitterSeconds.max;
  return s;
}

/**
 * One step of a stream: `prev` is the remembered snapshot (undefined for the stream's first sample),
 * `cur` the new sample's cumulative snapshot and `interval` its own interval values.
 */
export function stepStream(prev: StreamSnapshot | undefined, cur: StreamSnapshot, interval: MetricValues): StreamStep {
  if (prev !== undefined && cur.at <= prev.at) return { next: undefined, derived: {} };
  const derived: DerivedValues = {};
  const received = interval.packetsReceived ?? countDelta(prev, cur, 'received');
  const lost = interval.packetsLost ?? countDelta(prev, cur, 'lost');
  if (interval.packetsReceived === undefined && received !== undefined) derived.packetsReceived = received;
  if (interval.packetsLost === undefined && lost !== undefined) derived.packetsLost = lost;
  if (interval.packetsSent === undefined) {
    const sent = countDelta(prev, cur, 'sent');
    if (sent !== undefined) derived.packetsSent = sent;
  }
  if (!hasIntervalLoss(interval) && received !== undefined && lost !== undefined && received + lost > 0) {
    derived.packetLossRatio = lost / (received + lost);
  }
  const intervalJitter = interval.jitterSeconds?.value ?? interval.jitterSeconds?.avg;
  if (intervalJitter === undefined) {
    const jitter = jitterOf(prev, cur);
    if (jitter !== undefined) derived.jitterSeconds = jitter;
  }
  return { next: cur, derived };
}

type Count = 'received' | 'lost' | 'sent';

function countDelta(prev: StreamSnapshot | undefined, cur: StreamSnapshot, k: Count): number | undefined {
  const now = cur[k];
  if (now === undefined) return undefined;
  if (prev === undefined) return now;
  const before = prev[k];
  if (before === undefined || now < before) return undefined;
  return now - before;
}

/** The recorder derives loss from the interval's own percentage or counts when it has them. */
function hasIntervalLoss(v: MetricValues): boolean {
  return v.packetLossRatio !== undefined || (v.packetsLost !== undefined && v.packetsReceived !== undefined);
}

function jitterOf(prev: StreamSnapshot | undefined, cur: StreamSnapshot): number | undefined {
  const avg = cur.jitterAvg;
  if (avg === undefined) return undefined;
  const max = cur.jitterMax ?? Number.POSITIVE_INFINITY;
  if (prev === undefined) {
    const n = (cur.received ?? Number.POSITIVE_INFINITY) + (cur.lost ?? 0);
    return n <= FIRST_SNAPSHOT_MAX_PACKETS ? avg : undefined;
  }
  const n1 = prev.received;
  const n2 = cur.received;
  if (n1 !== undefined && n2 !== undefined) {
    if (n2 <= n1) return undefined; // nothing received in the interval, or a reset
    if (prev.jitterAvg !== undefined) {
      const weighted = (avg * n2 - prev.jitterAvg * n1) / (n2 - n1);
      return Math.min(Math.max(weighted, 0), max);
    }
  }
  if (prev.jitterMax !== undefined && cur.jitterMax !== undefined && cur.jitterMax > prev.jitterMax) {
    return cur.jitterMax;
  }
  return avg;
}
