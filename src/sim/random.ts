// Seeded randomness for the traffic simulator. Everything the simulator invents (call mix, quality,
// ids, delivery delays) comes from here, so one seed replays one run exactly.
import { createHash } from 'node:crypto';

/** mulberry32: tiny, fast, good enough for synthetic traffic (not for anything secret). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return Math.floor(this.between(min, max + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** One of the entries, with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [value, weight] of entries) {
      r -= weight;
      if (r < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[0];
  }

  /** Normally distributed (Box-Muller). */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `length` lowercase hex digits. */
  hex(length: number): string {
    let out = '';
    while (out.length < length)
      out += Math.floor(this.next() * 0x10000)
        .toString(16)
        .padStart(4, '0');
    return out.slice(0, length);
  }
}

/**
 * An independent stream for one purpose of one call (`rngFor(seed, 7, 'media')`), so how much randomness
 * one part uses never shifts another part: the plan of call 7 is the same whatever the schedule drew.
 */
export function rngFor(seed: number, ...keys: readonly (string | number)[]): Rng {
  const digest = createHash('sha256')
    .update([seed, ...keys].join('\u0000'))
    .digest();
  return new Rng(digest.readUInt32LE(0));
}

/** Twilio-style SID: two-letter prefix + 32 lowercase hex digits (CA call, AC account, EZ event, CF conference, CP participant). */
export function sid(prefix: 'CA' | 'AC' | 'EZ' | 'CF' | 'CP', rng: Rng): string {
  return `${prefix}${rng.hex(32)}`;
}

/** Rounds to `digits` decimals, as the SDK reports its samples (reference §2 metric.values: 2 decimals). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
