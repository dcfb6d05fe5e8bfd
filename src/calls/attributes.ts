// Twilio summary and event fields -> span attributes in a `twilio.*` namespace (DESIGN section 5).
// Caller and callee numbers, IPs, SIP URIs and client identities are left out unless EXPOSE_PII is
// set: traces often travel to third-party backends with looser access than the contact center.
import type {
  AnnotationSummary,
  CallEventRecord,
  CallRegions,
  CallSummaryRecord,
  EdgeDirectionQuality,
  Party,
  SdkEdgeEvents,
  TrustSummary,
} from '../events/types.js';
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
  put(a, 'twilio.call.parent_account_sid', s.parentAccountSid);
  put(a, 'twilio.summary.processing_version', s.processingVersion);
  regionAttributes(a, s.regions);
  trustAttributes(a, s.trust, exposePii);
  annotationAttributes(a, s.annotation, exposePii);
  partyAttributes(a, 'twilio.from', s.from, exposePii);
  partyAttributes(a, 'twilio.to', s.to, exposePii);
  for (const edge of s.edges) {
    const prefix = `twilio.${edge.edge}`;
    put(a, `${prefix}.region`, edge.region);
    put(a, `${prefix}.edge_location`, edge.edgeLocation);
    put(a, `${prefix}.direction`, edge.direction);
    put(a, `${prefix}.media_region`, edge.mediaRegion);
    put(a, `${prefix}.signaling_region`, edge.signalingRegion);
    put(a, `${prefix}.selected_region`, edge.selectedRegion);
    put(a, `${prefix}.trunk_sid`, edge.trunkSid);
    put(a, `${prefix}.disconnected_by`, edge.disconnectedBy);
    qualityAttributes(a, `${prefix}.inbound`, edge.inbound);
    qualityAttributes(a, `${prefix}.outbound`, edge.outbound);
    sdkEventAttributes(a, `${prefix}.events`, edge.sdkEvents);
    if (exposePii) for (const [k, v] of Object.entries(edge.sensitive)) put(a, `${prefix}.${k}`, v);
  }
  return a;
}

/** v1 summaries carry the call's regions in the edge-agnostic properties. */
function regionAttributes(a: Attrs, r: CallRegions | undefined): void {
  if (r === undefined) return;
  put(a, 'twilio.call.region', r.region);
  put(a, 'twilio.call.media_region', r.mediaRegion);
  put(a, 'twilio.call.signaling_region', r.signalingRegion);
  put(a, 'twilio.call.selected_region', r.selectedRegion);
  put(a, 'twilio.call.edge_location', r.edgeLocation);
}

/** Customer-written text (branding and integrity use cases): phone numbers and IPs in it redacted unless exposed. */
function freeText(value: string | undefined, exposePii: boolean): string | undefined {
  return value === undefined || exposePii ? value : redactPii(value);
}

function trustAttributes(a: Attrs, t: TrustSummary | undefined, exposePii: boolean): void {
  if (t === undefined) return;
  put(a, 'twilio.trust.verified_caller', t.verifiedCaller);
  put(a, 'twilio.trust.branded.enabled', t.brandedEnabled);
  put(a, 'twilio.trust.branded.type', t.brandedType);
  put(a, 'twilio.trust.branded.use_case', freeText(t.brandedUseCase, exposePii));
  put(a, 'twilio.trust.branded.logo', t.brandedLogo);
  put(a, 'twilio.trust.voice_integrity.enabled', t.voiceIntegrityEnabled);
  put(a, 'twilio.trust.voice_integrity.use_case', freeText(t.voiceIntegrityUseCase, exposePii));
  put(a, 'twilio.trust.business_profile.industry', t.businessProfileIndustry);
  put(a, 'twilio.trust.business_profile.type', t.businessProfileType);
}

/** The comment is free text written by people about the call: left out like PII unless exposed. */
function annotationAttributes(a: Attrs, n: AnnotationSummary | undefined, exposePii: boolean): void {
  if (n === undefined) return;
  put(a, 'twilio.annotation.call_score', n.callScore);
  put(a, 'twilio.annotation.quality_issues', n.qualityIssues.length > 0 ? n.qualityIssues : undefined);
  put(a, 'twilio.annotation.spam', n.spam);
  put(a, 'twilio.annotation.connectivity_issue', n.connectivityIssue);
  put(a, 'twilio.annotation.answered_by', n.answeredBy);
  // An incident or ticket reference (Twilio: not PII); a phone-number-like redaction would eat ticket numbers.
  put(a, 'twilio.annotation.incident', n.incident);
  if (exposePii) put(a, 'twilio.annotation.comment', n.comment);
}

/** sdk_edge.events counts, one attribute per level, group and error code (keys already sanitised and capped). */
function sdkEventAttributes(a: Attrs, prefix: string, e: SdkEdgeEvents | undefined): void {
  if (e === undefined) return;
  for (const [level, n] of Object.entries(e.levels)) put(a, `${prefix}.level.${level.toLowerCase()}`, n);
  for (const [group, n] of Object.entries(e.groups)) put(a, `${prefix}.group.${group}`, n);
  for (const [code, n] of Object.entries(e.errors)) put(a, `${prefix}.error.${code}`, n);
  put(a, `${prefix}.feedback.score`, e.feedbackScore);
  put(a, `${prefix}.feedback.reason`, e.feedbackReason);
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
  put(a, `${prefix}.mos_max`, q.mosMax);
  put(a, `${prefix}.rtt_max_seconds`, q.rttMaxSeconds);
  put(a, `${prefix}.audio_in_avg`, q.audioInAvg);
  put(a, `${prefix}.audio_in_max`, q.audioInMax);
  put(a, `${prefix}.audio_out_avg`, q.audioOutAvg);
  put(a, `${prefix}.audio_out_max`, q.audioOutMax);
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
