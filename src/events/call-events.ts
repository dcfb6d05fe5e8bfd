// `com.twilio.voice.insights.call-event.gateway|sdk` (schema VoiceInsights.CallEvent v1-v3) ->
// CallEventRecord. Field reference: /work/shared/reference/twilio-call-insights.md §2;
// https://www.twilio.com/docs/events/event-types/voice-insights/gateway-call-event and
// https://www.twilio.com/docs/events/event-types/voice-insights/voice-sdk-events.
// Group and name are open strings (§2.1: no authoritative list of gateway names).
import { z } from 'zod';
import type { Converter } from './family.js';
import type { CallEventRecord, EventLevel, EventSource } from './types.js';
import {
  definedEntries,
  isoTimestamp,
  num,
  optLowerString,
  optString,
  optStringOrNumber,
  requiredId,
  resolveEdge,
  toFieldIssues,
} from './fields.js';

const LEVELS: readonly EventLevel[] = ['UNKNOWN', 'DEBUG', 'INFO', 'WARNING', 'ERROR'];

/** Known level (case-insensitive) or 'UNKNOWN' for anything else, including non-strings (§2 `event_enum_level`). */
const level = z
  .unknown()
  .transform((value): EventLevel => {
    const upper = typeof value === 'string' ? value.trim().toUpperCase() : '';
    return LEVELS.find((known) => known === upper) ?? 'UNKNOWN';
  })
  .optional();

/** Gateway edges (carrier/sip/client): only metadata is sent with events. */
const gatewayEdge = z.object({
  metadata: z
    .object({ region: optString, edge_location: optLowerString, twilio_ip: optString, external_ip: optString })
    .nullish(),
});

const candidate = z.object({ type: optString, protocol: optString }).nullish();

/** sdk_edge, schema definition ClientEventData (§2 table): every part optional. */
const sdkEdge = z.object({
  error: z.object({ code: num, message: optString }).nullish(),
  metric: z.object({ threshold: num, values: z.array(num).max(1000).nullish(), value: num }).nullish(),
  feedback: z.object({ score: num, reason: optString }).nullish(),
  ice_candidate_pair: z.object({ local: candidate, remote: candidate }).nullish(),
  metadata: z
    .object({
      client_name: optString,
      ip_address: optString,
      city: optString,
      country_code: optString,
      country_subdivision: optString,
      location: z.object({ lat: num, lon: num }).nullish(),
      sdk: z
        .object({
          type: optString,
          version: optString,
          platform: optString,
          region: optString,
          selected_region: optString,
          browser: z.object({ name: optString, major: optStringOrNumber, version: optStringOrNumber }).nullish(),
          // Mobile SDKs (REST Call Events example: os {name, version}, device {model, type, vendor, arch}).
          os: z.object({ name: optString, version: optStringOrNumber }).nullish(),
          device: z.object({ model: optString, type: optString, vendor: optString, arch: optString }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

// Unknown keys (Conversation Relay data, future edges) are stripped by z.object, i.e. tolerated (§2).
export const callEventDataSchema = z.object({
  call_sid: requiredId,
  account_sid: optString,
  timestamp: isoTimestamp,
  edge: optString,
  group: requiredId,
  name: requiredId,
  level,
  carrier_edge: gatewayEdge.nullish(),
  sip_edge: gatewayEdge.nullish(),
  client_edge: gatewayEdge.nullish(),
  sdk_edge: sdkEdge.nullish(),
});

type SdkEdge = z.output<typeof sdkEdge>;

/** Coordinates of 0/-0 mean "unknown" in Twilio payloads (§8.5). */
function realCoordinates(location: { lat?: number | undefined; lon?: number | undefined } | null | undefined) {
  if (location == null || location.lat === undefined || location.lon === undefined) return undefined;
  if (location.lat === 0 && location.lon === 0) return undefined;
  return { lat: location.lat, lon: location.lon };
}

function sdkDetails(sdk: SdkEdge) {
  const metadata = sdk.metadata;
  const info = metadata?.sdk;
  const pair = sdk.ice_candidate_pair;
  const coordinates = realCoordinates(metadata?.location);
  return {
    details: definedEntries<string>({
      'sdk.type': info?.type,
      'sdk.version': info?.version,
      'sdk.platform': info?.platform,
      'sdk.region': info?.region,
      'sdk.selected_region': info?.selected_region,
      'browser.name': info?.browser?.name,
      'browser.major': info?.browser?.major,
      'sdk.os.name': info?.os?.name,
      'sdk.os.version': info?.os?.version,
      'sdk.device.type': info?.device?.type,
      'sdk.device.vendor': info?.device?.vendor,
      'sdk.device.model': info?.device?.model,
      'sdk.device.arch': info?.device?.arch,
      country_code: metadata?.country_code,
      'ice.local.type': pair?.local?.type,
      'ice.local.protocol': pair?.local?.protocol,
      'ice.remote.type': pair?.remote?.type,
      'ice.remote.protocol': pair?.remote?.protocol,
    }),
    sensitive: definedEntries<string | number>({
      client_name: metadata?.client_name,
      ip_address: metadata?.ip_address,
      city: metadata?.city,
      country_subdivision: metadata?.country_subdivision,
      'location.lat': coordinates?.lat,
      'location.lon': coordinates?.lon,
    }),
  };
}

function metricValues(metric: SdkEdge['metric']): number[] | undefined {
  if (metric == null) return undefined;
  // The SDK sends recent samples as `values`, sometimes a single `value` (§2 sdk_edge table).
  const values = (metric.values ?? []).filter((value): value is number => value !== undefined);
  if (values.length > 0) return values;
  return metric.value === undefined ? undefined : [metric.value];
}

/** Converter for one event source; gateway and SDK events share the schema and differ only in which edge reports. */
export function convertCallEvent(source: EventSource): Converter<CallEventRecord> {
  return (envelope) => {
    const parsed = callEventDataSchema.safeParse(envelope.data);
    if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
    const data = parsed.data;
    const timestamp = data.timestamp ?? envelope.info.time;
    if (timestamp === undefined) {
      return {
        ok: false,
        issues: [{ path: 'data.timestamp', message: 'Required: no data.timestamp and no CloudEvent time' }],
      };
    }
    const { edge, locationFromEdgeField } = resolveEdge(data.edge, data, source);
    const gateway = edge === 'carrier_edge' || edge === 'sip_edge' || edge === 'client_edge' ? data[edge] : undefined;
    const sdk = edge === 'sdk_edge' ? data.sdk_edge : undefined;
    const gatewayMeta = gateway?.metadata;
    const sdkParts = sdk == null ? { details: {}, sensitive: {} } : sdkDetails(sdk);
    const record: CallEventRecord = {
      kind: 'call-event',
      callSid: data.call_sid,
      accountSid: data.account_sid,
      timestamp,
      source,
      edge,
      edgeLocation: gatewayMeta?.edge_location ?? locationFromEdgeField,
      region: gatewayMeta?.region,
      group: data.group,
      name: data.name,
      level: data.level ?? 'UNKNOWN',
      // Schema defaults put 0 where nothing was set (§1.1); no Twilio error code or feedback score is 0.
      errorCode: sdk?.error?.code === 0 ? undefined : sdk?.error?.code,
      errorMessage: sdk?.error?.message,
      // Passed through in the SDK's own units (ms for high-rtt/high-jitter, % for high-packet-loss,
      // MOS for low-mos): which unit applies depends on the warning name, which is an open set (§2.2).
      metricThreshold: sdk?.metric?.threshold,
      metricValues: metricValues(sdk?.metric),
      feedbackScore: sdk?.feedback?.score === 0 ? undefined : sdk?.feedback?.score,
      feedbackReason: sdk?.feedback?.reason,
      details: sdkParts.details,
      sensitive: {
        ...definedEntries<string>({ twilio_ip: gatewayMeta?.twilio_ip, external_ip: gatewayMeta?.external_ip }),
        ...sdkParts.sensitive,
      },
    };
    return { ok: true, value: record };
  };
}
