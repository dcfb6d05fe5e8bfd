// A call's media, second by second: what the network did to each stream, then the samples Twilio
// reports from it. SDK samples are 1 s apart and gateway intervals 10 s apart (reference §1 notes:
// "the SDK samples once per second; gateways report cumulative stats for the previous 10 s every 10 s").
// Pure: all randomness comes from the Rng passed in.
import {
  PACKETS_PER_SECOND,
  isGatewayEdge,
  type Codec,
  type Edge,
  type Flavour,
  type GatewayEdge,
  type StreamDirection,
} from './model.js';
import { mosFrom, type SdkQuality, type SdkReading, type StreamQuality } from './quality.js';
import { round, type Rng } from './random.js';

/** What the network did to one stream during one second. */
interface Second {
  jitterMs: number;
  rttMs: number;
  lost: number;
}

/** One `call-metrics.sdk` sample (§3 sdk_edge: interval values as `{value}`, cumulative running totals). */
export interface SdkSample extends SdkReading {
  audioOut: number;
  packetsReceived: number;
  packetsLost: number;
  /** The microphone stream the SDK sent this second (CallMetric/2 `Metrics.packets_sent`). */
  packetsSent: number;
  cumulative: {
    packetsReceived: number;
    packetsLost: number;
    packetsSent: number;
    bytesReceived: number;
    bytesSent: number;
  };
}

/** One `call-metrics.gateway` interval of one edge and stream direction (§3 gateway edges). */
export interface GatewayInterval {
  /** End of the 10 s it covers, sim ms since call creation. */
  atMs: number;
  edge: GatewayEdge;
  direction: StreamDirection;
  packetsReceived: number;
  packetsLost: number;
  lossPct: number;
  cumulative: { packetsReceived: number; packetsLost: number; jitterMaxMs: number; jitterAvgMs: number };
}

export interface StreamSummary extends StreamQuality {
  edge: GatewayEdge;
  direction: StreamDirection;
}

export interface Media {
  sdk: SdkSample[];
  gateway: GatewayInterval[];
  /** Whole-call figures per gateway edge and direction. */
  streams: StreamSummary[];
  sdkQuality: SdkQuality | undefined;
}

export interface MediaInput {
  flavour: Flavour;
  edges: readonly Edge[];
  codec: Codec;
  /** Sim ms since creation when media starts (the answer). */
  answeredMs: number;
  connectSeconds: number;
}

const GATEWAY_INTERVAL_S = 10;

/**
 * The stream that carries the call's trouble: the far side's audio arriving at the first gateway edge
 * (and, for client calls, what the SDK measures). Every other stream is clean.
 */
function isImpaired(input: MediaInput, edge: GatewayEdge, direction: StreamDirection): boolean {
  return direction === 'inbound' && edge === input.edges.find(isGatewayEdge);
}

export function generateMedia(rng: Rng, input: MediaInput): Media {
  const n = input.connectSeconds;
  const impaired = networkSeconds(rng, input.flavour, n);
  const silence = input.flavour === 'silence';
  const sdk = input.edges.includes('sdk_edge') ? sdkSamples(rng, input, impaired, silence) : [];
  const gateway: GatewayInterval[] = [];
  const streams: StreamSummary[] = [];
  for (const edge of input.edges.filter(isGatewayEdge)) {
    for (const direction of ['inbound', 'outbound'] as const) {
      const troubled = isImpaired(input, edge, direction);
      const seconds = troubled ? impaired : networkSeconds(rng, 'good', n);
      // A silent call's far-side stream is missing at a PSTN/SIP gateway; from a client it arrives but is silent.
      const missing = troubled && silence && edge !== 'client_edge';
      const result = gatewayStream(input, edge, direction, seconds, missing);
      gateway.push(...result.intervals);
      streams.push({ ...result.quality, silent: troubled && silence });
    }
  }
  gateway.sort((a, b) => a.atMs - b.atMs);
  return { sdk, gateway, streams, sdkQuality: sdk.length > 0 ? sdkQuality(sdk) : undefined };
}

/** Per-second network conditions; each bad flavour is built so the whole call crosses Twilio's tag threshold (§4.5). */
function networkSeconds(rng: Rng, flavour: Flavour, n: number): Second[] {
  const baseRtt = flavour === 'low_mos' ? rng.between(420, 600) : rng.between(40, 160);
  const baseJitter =
    flavour === 'high_jitter' ? rng.between(6, 10) : flavour === 'low_mos' ? rng.between(12, 22) : rng.between(1, 4.5);
  // high_jitter: one bad stretch of 30-60 % of the call with jitter far above 30 ms, the rest still >= 5 ms,
  // so avg >= 5 ms and max >= 30 ms hold (tag high_jitter) and the SDK's 3-of-5 rule fires.
  const episodeLength = Math.min(n, Math.max(5, Math.round(n * rng.between(0.3, 0.6))));
  const episodeStart = rng.int(0, Math.max(0, n - episodeLength));
  const seconds: Second[] = [];
  for (let s = 0; s < n; s++) {
    let jitterMs: number;
    let lost: number;
    if (flavour === 'high_jitter') {
      const inEpisode = s >= episodeStart && s < episodeStart + episodeLength;
      jitterMs = inEpisode ? rng.between(35, 90) : clamp(rng.normal(baseJitter, 1.5), 5, 25);
    } else if (flavour === 'low_mos') {
      jitterMs = clamp(rng.normal(baseJitter, 3), 10, 25);
    } else {
      // Good streams stay under 25 ms, so they never reach the 30 ms max of high_jitter.
      jitterMs = clamp(rng.normal(baseJitter, baseJitter * 0.3), 0.2, 12) + (rng.chance(0.02) ? rng.between(5, 12) : 0);
    }
    if (flavour === 'high_packet_loss')
      lost = rng.int(4, 8); // 8-16 % every second: > 5 % overall
    else if (flavour === 'low_mos')
      lost = rng.int(1, 2); // 2-4 %: with RTT > 400 ms, MOS < 3.5 every second
    else lost = rng.chance(0.03) ? 1 : 0;
    const rttMs =
      flavour === 'low_mos'
        ? clamp(rng.normal(baseRtt, 20), 410, 700)
        : clamp(rng.normal(baseRtt, baseRtt * 0.1), 20, 350);
    seconds.push({ jitterMs: round(jitterMs), rttMs: Math.round(rttMs), lost });
  }
  return seconds;
}

function sdkSamples(rng: Rng, input: MediaInput, seconds: readonly Second[], silence: boolean): SdkSample[] {
  const samples: SdkSample[] = [];
  const flatLevel = rng.int(0, 2);
  const cumulative = { packetsReceived: 0, packetsLost: 0, packetsSent: 0, bytesReceived: 0, bytesSent: 0 };
  seconds.forEach((second, s) => {
    const packetsLost = second.lost;
    const packetsReceived = PACKETS_PER_SECOND - packetsLost;
    const lossPct = round((packetsLost / PACKETS_PER_SECOND) * 100);
    cumulative.packetsReceived += packetsReceived;
    cumulative.packetsLost += packetsLost;
    cumulative.packetsSent += PACKETS_PER_SECOND;
    cumulative.bytesReceived += packetsReceived * input.codec.bytesPerPacket;
    cumulative.bytesSent += PACKETS_PER_SECOND * input.codec.bytesPerPacket;
    samples.push({
      atMs: input.answeredMs + (s + 1) * 1000,
      jitterMs: second.jitterMs,
      rttMs: second.rttMs,
      mos: mosFrom(second.rttMs, second.jitterMs, lossPct),
      lossPct,
      // Raw 0..32767 levels (§3, TCJS). A dead microphone reads a flat near-zero level.
      audioIn: silence ? flatLevel : rng.int(300, 20000),
      audioOut: rng.int(500, 24000),
      packetsReceived,
      packetsLost,
      packetsSent: PACKETS_PER_SECOND,
      cumulative: { ...cumulative },
    });
  });
  return samples;
}

function gatewayStream(
  input: MediaInput,
  edge: GatewayEdge,
  direction: StreamDirection,
  seconds: readonly Second[],
  missing: boolean,
): { intervals: GatewayInterval[]; quality: Omit<StreamSummary, 'silent'> } {
  const intervals: GatewayInterval[] = [];
  let received = 0;
  let lost = 0;
  let jitterSum = 0;
  let jitterMax = 0;
  for (let start = 0; start < seconds.length; start += GATEWAY_INTERVAL_S) {
    const chunk = seconds.slice(start, start + GATEWAY_INTERVAL_S);
    const expected = missing ? 0 : chunk.length * PACKETS_PER_SECOND;
    const chunkLost = missing ? 0 : chunk.reduce((sum, s) => sum + s.lost, 0);
    received += expected - chunkLost;
    lost += chunkLost;
    if (!missing) {
      for (const s of chunk) {
        jitterSum += s.jitterMs;
        jitterMax = Math.max(jitterMax, s.jitterMs);
      }
    }
    const seen = missing ? 0 : start + chunk.length;
    intervals.push({
      atMs: input.answeredMs + (start + chunk.length) * 1000,
      edge,
      direction,
      packetsReceived: expected - chunkLost,
      packetsLost: chunkLost,
      lossPct: expected === 0 ? 0 : round((chunkLost / expected) * 100),
      cumulative: {
        packetsReceived: received,
        packetsLost: lost,
        jitterMaxMs: round(jitterMax),
        jitterAvgMs: seen === 0 ? 0 : round(jitterSum / seen),
      },
    });
  }
  const total = received + lost;
  const n = missing ? 0 : seconds.length;
  return {
    intervals,
    quality: {
      edge,
      direction,
      packetsReceived: received,
      packetsLost: lost,
      lossPct: total === 0 ? 0 : round((lost / total) * 100),
      jitterAvgMs: n === 0 ? 0 : round(jitterSum / n),
      jitterMaxMs: round(jitterMax),
    },
  };
}

function sdkQuality(samples: readonly SdkSample[]): SdkQuality {
  const stats = (values: number[], digits: number) => ({
    min: round(Math.min(...values), digits),
    max: round(Math.max(...values), digits),
    avg: round(values.reduce((a, b) => a + b, 0) / values.length, digits),
  });
  const last = samples[samples.length - 1];
  const received = last?.cumulative.packetsReceived ?? 0;
  const lost = last?.cumulative.packetsLost ?? 0;
  const jitter = stats(
    samples.map((s) => s.jitterMs),
    2,
  );
  return {
    packetsReceived: received,
    packetsLost: lost,
    lossPct: received + lost === 0 ? 0 : round((lost / (received + lost)) * 100),
    jitterAvgMs: jitter.avg,
    jitterMaxMs: jitter.max,
    silent: false,
    mos: stats(
      samples.map((s) => s.mos),
      2,
    ),
    rttMs: stats(
      samples.map((s) => s.rttMs),
      1,
    ),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
