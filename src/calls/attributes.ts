// Twilio summary and event fields -> span attributes in a `twilio.*` namespace (DESIGN section 5).
// Caller and callee numbers, IPs, SIP URIs and client identities are left out unless EXPOSE_PII is
// set: traces often travel to third-party backends with looser access than the contact center.
import type { CallEventRecord, CallSummaryRecord, EdgeDirectionQuality, Party } from '../events/types.js';
import { redactPii } from './redact.js';
import type { AttrValue, Attrs } from './span-data.js';

export function put(attrs: Attrs, key: string, value: AttrValue | undefined): void {
  if (value === undefined || value === '' || (typeof value === 'number' && !Number.isFinite(value))) return;
  attrs[key] = value;
}

export function summaryAttributes(s: CallSummaryRecord, exposePii: boolean): Attrs {
  const a: Attrs = {};
  put(a, 'twilio.call.type', s.callType);
  put(a, 'twilio.call.state', s.callState);
  put(a, 'twilio.call.direction', s.direction);
  put(a, 'twilio.call.answered_by', s.answeredBy);
  put(a, 'twilio.call.duration', s.durationSeconds);
  put(a, 'twilio.call.connect_duration', s.connectDurationSeconds);
  put(a, 'twilio.call.disconnected_by', s.disconnectedBy);
  put(a, 'twilio.call.tags', s.tags.length > 0 ? s.tags : undefined);
  put(
    a,
    'twilio.call.pdd_ms',
    s.postDialDelaySeconds === undefined ? undefined : Math.round(s.postDialDelaySeconds * 1000),
  );
  put(
    a,
    'twilio.call.queue_time_ms',
    s.queueTimeSeconds === undefined ? undefined : Math.round(s.queueTimeSeconds * 1000),
  );
  put(a, 'twilio.call.last_sip_response', s.lastSipResponse);
  put(a, 'twilio.call.q850_cause', s.q850Cause);
  put(a, 'twilio.call.parent_call_sid', s.parentCallSid);
  put(a, 'twilio.call.conference_participant', s.conferenceParticipant);
  put(a, 'twilio.summary.processing_version', s.processingVersion);
  partyAttributes(a, 'twilio.from', s.from, exposePii);
  partyAttributes(a, 'twilio.to', s.to, exposePii);
  for (const edge of s.edges) {
    const prefix = `twilio.${edge.edge}`;
    put(a, `${prefix}.region`, edge.region);
    put(a, `${prefix}.edge_location`, edge.edgeLocation);
    qualityAttributes(a, `${prefix}.inbound`, edge.inbound);
    qualityAttributes(a, `${prefix}.outbound`, edge.outbound);
    if (exposePii) for (const [k, v] of Object.entries(edge.sensitive)) put(a, `${prefix}.${k}`, v);
  }
  return a;
}

function partyAttributes(a: Attrs, prefix: string, p: Party, exposePii: boolean): void {
  put(a, `${prefix}.country_code`, p.countryCode);
  put(a, `${prefix}.carrier`, p.carrier);
  put(a, `${prefix}.connection`, p.connection);
  if (!exposePii) return;
  put(a, `${prefix}.number`, p.number);
  put(a, `${prefix}.number_prefix`, p.numberPrefix);
  put(a, `${prefix}.ip_address`, p.ipAddress);
  put(a, `${prefix}.city`, p.city);
  put(a, `${prefix}.country_subdivision`, p.countrySubdivision);
}

/** Per edge stream quality, in the units Twilio's console shows (ms, %), named so. */
function qualityAttributes(a: Attrs, prefix: string, q: EdgeDirectionQuality | undefined): void {
  if (q === undefined) return;
  put(a, `${prefix}.codec`, q.codec);
  put(a, `${prefix}.packets_received`, q.packetsReceived);
  put(a, `${prefix}.packets_sent`, q.packetsSent);
  put(a, `${prefix}.packets_lost`, q.packetsLost);
  put(a, `${prefix}.packet_loss_ratio`, q.packetLossRatio);
  put(a, `${prefix}.jitter_avg_seconds`, q.jitterAvgSeconds);
  put(a, `${prefix}.jitter_max_seconds`, q.jitterMaxSeconds);
  put(a, `${prefix}.latency_avg_seconds`, q.latencyAvgSeconds);
  put(a, `${prefix}.mos_avg`, q.mosAvg);
  put(a, `${prefix}.mos_min`, q.mosMin);
  put(a, `${prefix}.rtt_avg_seconds`, q.rttAvgSeconds);
}

/**
 * Gateway names already carry their group ("call.connected"); SDK names do not ("high-jitter").
 * Name and group are open strings: with PII hidden, a phone number or IP inside them is redacted.
 */
export function eventName(e: CallEventRecord, exposePii: boolean): string {
  const name = e.name.startsWith(`${e.group}.`) ? e.name : `${e.group}.${e.name}`;
  return exposePii ? name : redactPii(name);
}

export function eventAttributes(e: CallEventRecord, exposePii: boolean): Attrs {
  const text = (value: string): string => (exposePii ? value : redactPii(value));
  const optText = (value: string | undefined) => (value === undefined ? undefined : text(value));
  const a: Attrs = {
    'twilio.event.group': text(e.group),
    'twilio.event.name': text(e.name),
    'twilio.event.level': e.level,
    'twilio.event.source': e.source,
  };
  put(a, 'twilio.edge', optText(e.edge));
  put(a, 'twilio.edge_location', optText(e.edgeLocation));
  put(a, 'twilio.region', optText(e.region));
  put(a, 'twilio.error.code', e.errorCode);
  put(a, 'twilio.error.message', e.errorMessage);
  put(a, 'twilio.metric.threshold', e.metricThreshold);
  put(a, 'twilio.metric.values', e.metricValues);
  put(a, 'twilio.feedback.score', e.feedbackScore);
  put(a, 'twilio.feedback.reason', e.feedbackReason);
  for (const [k, v] of Object.entries(e.details)) put(a, `twilio.${k}`, v);
  if (exposePii) for (const [k, v] of Object.entries(e.sensitive)) put(a, `twilio.${k}`, v);
  return a;
}
