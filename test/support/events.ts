// Builds realistic CloudEvents with chosen values, on the shapes of the fixtures in test/fixtures.
// Ids and SIDs are derived from a name and a counter, so every test gets unique, stable ids.
import { createHash } from 'node:crypto';

const hex32 = (seed: string) => createHash('sha256').update(seed).digest('hex').slice(0, 32);
export const callSid = (name: string) => `CA${hex32(`call:${name}`)}`;
export const ACCOUNT_SID = `AC${hex32('account')}`;
let counter = 0;
export const eventId = (name = 'event') => `EZ${hex32(`${name}:${++counter}:${process.pid}`)}`;

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

export interface IntervalValues {
  jitter?: number;
  rtt?: number;
  mos?: number;
  audio_in?: number;
  audio_out?: number;
  packets_received?: number;
  packets_lost?: number;
  packets_sent?: number;
  packets_loss_percentage?: number;
}

function metricsBlock(v: IntervalValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const entries: [string, unknown][] = Object.entries(v);
  for (const [k, value] of entries) {
    if (value === undefined) continue;
    out[k] = ['jitter', 'rtt', 'mos', 'audio_in', 'audio_out'].includes(k) ? { value } : value;
  }
  return out;
}

export function sdkMetric(
  call: string,
  interval: IntervalValues,
  opts: { second?: number; cumulative?: IntervalValues; codec?: string } = {},
) {
  const sid = callSid(call);
  return {
    specversion: '1.0',
    type: 'com.twilio.voice.insights.call-metrics.sdk',
    source: `/v1/Voice/${sid}/Metrics`,
    id: eventId(call),
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2',
    datacontenttype: 'application/json',
    time: iso(T0 + (opts.second ?? 0) * 1000 + 60_000),
    data: {
      timestamp: iso(T0 + (opts.second ?? 0) * 1000),
      call_sid: sid,
      account_sid: ACCOUNT_SID,
      edge: 'sdk_edge',
      direction: 'both',
      carrier_edge: null,
      sip_edge: null,
      client_edge: null,
      sdk_edge: {
        codec: 111,
        codec_name: opts.codec ?? 'opus',
        interval: metricsBlock(interval),
        cumulative: metricsBlock(opts.cumulative ?? {}),
        metadata: {
          client_name: 'agent_jdoe',
          ip_address: '192.0.2.45',
          country_code: 'US',
          sdk: { type: 'twilio-voice.js', version: '2.12.3' },
        },
      },
    },
  };
}

export function gatewayMetric(
  call: string,
  edge: 'carrier_edge' | 'sip_edge' | 'client_edge',
  direction: 'inbound' | 'outbound',
  interval: IntervalValues,
  opts: { tick?: number; cumulative?: IntervalValues & { jitter_avg?: number }; codec?: string; region?: string } = {},
) {
  const sid = callSid(call);
  const edges: Record<string, unknown> = { carrier_edge: null, sip_edge: null, client_edge: null, sdk_edge: null };
  const { jitter_avg, ...cumulative } = opts.cumulative ?? {};
  edges[edge] = {
    codec: 0,
    codec_name: opts.codec ?? 'PCMU',
    interval: metricsBlock(interval),
    cumulative: {
      ...metricsBlock(cumulative),
      ...(jitter_avg === undefined ? {} : { jitter: { avg: jitter_avg, max: jitter_avg * 3 } }),
    },
    metadata: {
      region: opts.region ?? 'us1',
      edge_location: 'ashburn',
      twilio_ip: '54.172.60.3',
      external_ip: '203.0.113.24',
    },
  };
  return {
    specversion: '1.0',
    type: 'com.twilio.voice.insights.call-metrics.gateway',
    source: `/v1/Voice/${sid}/Metrics`,
    id: eventId(call),
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2',
    datacontenttype: 'application/json',
    time: iso(T0 + (opts.tick ?? 0) * 10_000 + 60_000),
    data: {
      timestamp: iso(T0 + (opts.tick ?? 0) * 10_000),
      call_sid: sid,
      account_sid: ACCOUNT_SID,
      edge,
      direction,
      ...edges,
    },
  };
}

export function sdkEvent(call: string, group: string, name: string, level = 'INFO', second = 0) {
  const sid = callSid(call);
  return {
    specversion: '1.0',
    type: 'com.twilio.voice.insights.call-event.sdk',
    source: `/v1/Voice/${sid}/Events`,
    id: eventId(call),
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallEvent/3',
    datacontenttype: 'application/json',
    time: iso(T0 + second * 1000 + 30_000),
    data: {
      timestamp: iso(T0 + second * 1000),
      call_sid: sid,
      account_sid: ACCOUNT_SID,
      edge: 'sdk_edge',
      group,
      name,
      level,
      carrier_edge: null,
      sip_edge: null,
      client_edge: null,
      sdk_edge: {
        metadata: {
          client_name: 'agent_jdoe',
          ip_address: '192.0.2.45',
          sdk: { type: 'twilio-voice.js', version: '2.12.3' },
        },
      },
    },
  };
}
