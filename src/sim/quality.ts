// Twilio's quality rules, applied to the simulator's own samples so that what it sends agrees with
// itself: the SDK warnings a call raises and the tags its summary carries follow from its metrics by
// the thresholds Twilio documents, never from the flavour the call was meant to have.
// Reference: /work/shared/reference/twilio-call-insights.md §2.2 (SDK warnings) and §4.5 (tags);
// https://www.twilio.com/docs/voice/voice-insights/api/call/details-sdk-call-quality-events and
// https://www.twilio.com/docs/voice/insights/api/voice-insights-call-tags.
import { round } from './random.js';

/** Summary tag thresholds (§4.5, "Details: Call Tags"). Gateway and SDK edges share the jitter and loss ones. */
export const TAG_THRESHOLDS = Object.freeze({
  jitterAvgMs: 5,
  jitterMaxMs: 30,
  /** Strictly above: "> 5% loss". */
  lossPct: 5,
  /** SDK edge: "low_mos (< 3.5)". */
  mos: 3.5,
  /** SDK edge: "high_latency (RTT > 400 ms)". */
  rttMs: 400,
});

/** One SDK sample as the warning rules see it (values as sent: ms, percent, MOS, raw 0..32767 level). */
export interface SdkReading {
  atMs: number;
  jitterMs: number;
  rttMs: number;
  mos: number;
  lossPct: number;
  audioIn: number;
}

export interface SdkWarning {
  atMs: number;
  group:
    | 'network-quality-warning-raised'
    | 'network-quality-warning-cleared'
    | 'audio-level-warning-raised'
    | 'audio-level-warning-cleared';
  name: string;
  level: 'WARNING' | 'INFO';
  threshold: number;
  /** The samples the decision was made on, rounded to 2 decimals as the SDK sends them (§2 metric.values). */
  values: number[];
}

interface NetworkRule {
  name: string;
  value: (s: SdkReading) => number;
  crosses: (v: number) => boolean;
  threshold: number;
}

// §2.2 documented triggers ("in 3 of the last 5 samples"). low-mos uses the documented 3.5, not
// twilio-voice.js's default of 3, so warnings and the low_mos tag cut at the same value.
const NETWORK_RULES: readonly NetworkRule[] = [
  { name: 'high-rtt', value: (s) => s.rttMs, crosses: (v) => v > 400, threshold: 400 },
  { name: 'low-mos', value: (s) => s.mos, crosses: (v) => v < 3.5, threshold: 3.5 },
  { name: 'high-jitter', value: (s) => s.jitterMs, crosses: (v) => v > 30, threshold: 30 },
  { name: 'high-packet-loss', value: (s) => s.lossPct, crosses: (v) => v > 1, threshold: 1 },
];

// twilio-voice.js statsMonitor: SAMPLE_COUNT_METRICS = 5 samples looked at, a warning is raised when
// SAMPLE_COUNT_RAISE = 3 of them cross the threshold and cleared when SAMPLE_COUNT_CLEAR = 0 do.
const WINDOW = 5;
const RAISE_COUNT = 3;
const CLEAR_COUNT = 0;
// constant-audio-input-level: standard deviation of the last 10 samples under 1 % of the 0..32767
// range (twilio-voice.js DEFAULT_THRESHOLDS.audioInputLevel = { minStandardDeviation: 327.67, sampleCount: 10 }).
const AUDIO_WINDOW = 10;
const AUDIO_MIN_STDDEV = 327.67;

/** Warnings raised and cleared over a call's 1 s SDK samples, in time order. Active warnings are not cleared at call end. */
export function sdkWarnings(samples: readonly SdkReading[]): SdkWarning[] {
  const warnings: SdkWarning[] = [];
  const active = new Set<string>();
  samples.forEach((sample, i) => {
    const window = samples.slice(Math.max(0, i - WINDOW + 1), i + 1);
    for (const rule of NETWORK_RULES) {
      const values = window.map(rule.value);
      const crossing = values.filter(rule.crosses).length;
      if (!active.has(rule.name) && crossing >= RAISE_COUNT) {
        active.add(rule.name);
        warnings.push({
          atMs: sample.atMs,
          group: 'network-quality-warning-raised',
          name: rule.name,
          level: 'WARNING',
          threshold: rule.threshold,
          values: values.map((v) => round(v)),
        });
      } else if (active.has(rule.name) && window.length === WINDOW && crossing <= CLEAR_COUNT) {
        active.delete(rule.name);
        warnings.push({
          atMs: sample.atMs,
          group: 'network-quality-warning-cleared',
          name: rule.name,
          level: 'INFO',
          threshold: rule.threshold,
          values: values.map((v) => round(v)),
        });
      }
    }
    if (i + 1 >= AUDIO_WINDOW) {
      const levels = samples.slice(i + 1 - AUDIO_WINDOW, i + 1).map((s) => s.audioIn);
      const flat = stddev(levels) < AUDIO_MIN_STDDEV;
      const name = 'constant-audio-input-level';
      if (flat && !active.has(name)) {
        active.add(name);
        warnings.push({
          atMs: sample.atMs,
          group: 'audio-level-warning-raised',
          name,
          level: 'WARNING',
          threshold: AUDIO_MIN_STDDEV,
          values: levels,
        });
      } else if (!flat && active.has(name)) {
        active.delete(name);
        warnings.push({
          atMs: sample.atMs,
          group: 'audio-level-warning-cleared',
          name,
          level: 'INFO',
          threshold: AUDIO_MIN_STDDEV,
          values: levels,
        });
      }
    }
  });
  return warnings;
}

function stddev(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
}

/**
 * MOS from RTT, jitter (ms) and loss (%), the E-model simplification the Voice SDK uses
 * (twilio-voice.js lib/twilio/rtc/mos.ts): effective latency = rtt + 2 * jitter + 10, R-factor from
 * r0 = 94.768, minus 2.5 per % lost, MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R). 1.0 to ~4.5.
 */
export function mosFrom(rttMs: number, jitterMs: number, lossPct: number): number {
  const effectiveLatency = rttMs + jitterMs * 2 + 10;
  let r = 0;
  if (effectiveLatency < 160) r = 94.768 - effectiveLatency / 40;
  else if (effectiveLatency < 1000) r = 94.768 - (effectiveLatency - 120) / 10;
  r = lossPct <= r / 2.5 ? Math.max(r - lossPct * 2.5, 6.52) : 0;
  if (r <= 0) return 1;
  return round(1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r));
}

/** Whole-call figures of one media stream, as a summary reports them (§4.3). */
export interface StreamQuality {
  packetsReceived: number;
  packetsLost: number;
  /** Percent, 0..100. */
  lossPct: number;
  jitterAvgMs: number;
  jitterMaxMs: number;
  /** The stream is missing or carried only silence. */
  silent: boolean;
}

export interface SdkQuality extends StreamQuality {
  mos: { min: number; max: number; avg: number };
  rttMs: { min: number; max: number; avg: number };
}

/** Tags of one gateway stream (carrier/sip/client edge, §4.5 gateway table). */
export function gatewayTags(q: StreamQuality): string[] {
  const tags: string[] = [];
  if (q.silent) tags.push('silence');
  if (q.jitterAvgMs >= TAG_THRESHOLDS.jitterAvgMs && q.jitterMaxMs >= TAG_THRESHOLDS.jitterMaxMs)
    tags.push('high_jitter');
  if (q.lossPct > TAG_THRESHOLDS.lossPct) tags.push('high_packet_loss');
  return tags;
}

/** Tags of the SDK edge (§4.5 SDK list; ice_failure is not simulated). */
export function sdkTags(q: SdkQuality): string[] {
  const tags: string[] = [];
  if (q.rttMs.avg > TAG_THRESHOLDS.rttMs) tags.push('high_latency');
  if (q.mos.avg < TAG_THRESHOLDS.mos) tags.push('low_mos');
  if (q.jitterAvgMs >= TAG_THRESHOLDS.jitterAvgMs && q.jitterMaxMs >= TAG_THRESHOLDS.jitterMaxMs)
    tags.push('high_jitter');
  if (q.lossPct > TAG_THRESHOLDS.lossPct) tags.push('high_packet_loss');
  return tags;
}

/** The summary's flat union of tags (§4.5), each once, in a stable order. */
export function unionTags(lists: readonly (readonly string[])[]): string[] {
  const order = ['silence', 'high_jitter', 'high_packet_loss', 'high_latency', 'low_mos'];
  const all = new Set(lists.flat());
  return order.filter((t) => all.has(t));
}
