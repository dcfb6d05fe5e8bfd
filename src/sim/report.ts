// What the simulator did, in numbers that reconcile with the exporter's /metrics:
//   events.byType[type].delivered   = voice_insights_exporter_events_total{type, outcome="accepted"}
//   events.duplicatesSent           = sum of voice_insights_exporter_events_total{outcome="duplicate"}
//   intervalPackets.received        = sum of twilio_voice_packets_received_total
//   intervalPackets.sent            = sum of twilio_voice_packets_sent_total
//   calls.completeSummaryDelivered  = sum of twilio_voice_calls_total (conference legs included)
//   conferences.completeSummaryDelivered = sum of twilio_voice_conferences_total, and by status and
//     end_reason: conferences.byStatus / byEndReason; conferences.byTag = twilio_voice_conference_tags_total
//   conferences.participants.summaryDelivered = sum of twilio_voice_conference_participants_total, and by
//     call_type, call_direction and role: participants.byCallType / byDirection / byRole
// when every delivery was answered 2xx (http.byStatus) and the run waited for the last of them.
import type { CallPlan } from './call-plan.js';
import type { SimEvent } from './cloudevents.js';
import { CONFERENCE_TYPES_SENT } from './conference-events.js';
import type { ParticipantPlan } from './conference-participant.js';
import type { ConferencePlan } from './conference-plan.js';
import type { Edge } from './model.js';
import type { PublicUrlSource } from './options.js';
import type { Delivery } from './schedule.js';
import type { Answer } from './sender.js';

export interface TypeCounts {
  /** Unique events generated for calls started in this run. */
  planned: number;
  /** Unique events sent at least once. */
  sent: number;
  /** Unique events answered 2xx at least once. */
  delivered: number;
  /** Repeat deliveries of an event id already sent. */
  duplicates: number;
}

export interface SimReport {
  settings: {
    target: string;
    seed: number;
    rate: number;
    durationSeconds: number | null;
    speed: number;
    badShare: number;
    duplicateShare: number;
    outOfOrderShare: number;
    conferenceShare: number;
  };
  startedAt: string;
  wallSeconds: number;
  /** True when the run was stopped (Ctrl-C) before everything was delivered. */
  interrupted: boolean;
  calls: {
    started: number;
    byType: Record<string, number>;
    /** good, or the bad flavour the call was given. */
    byOutcome: Record<string, number>;
    /** Summary call_state. */
    byState: Record<string, number>;
    /** Calls whose call-summary.complete was answered 2xx: the exporter finalises exactly these. */
    completeSummaryDelivered: number;
  };
  conferences: ConferenceCounts;
  events: {
    byType: Record<string, TypeCounts>;
    planned: number;
    sent: number;
    delivered: number;
    /** POSTs made, duplicates included. */
    deliveries: number;
    duplicatesSent: number;
    /** Deliveries held back to arrive out of order. */
    reorderedSent: number;
    /** Deliveries still scheduled when the run ended (final wait elapsed or interrupted). */
    undelivered: number;
  };
  /** Delivered unique metrics events. */
  metricSamples: { gateway: number; sdk: number };
  /** Interval packet counts of delivered unique metrics events (never the cumulative totals). */
  intervalPackets: {
    byEdge: Partial<Record<Edge, { received: number; lost: number; sent: number }>>;
    received: number;
    lost: number;
    sent: number;
  };
  http: { byStatus: Record<string, number> };
}

export interface ConferenceCounts {
  /** Conferences planned in this run. */
  started: number;
  /** Calls they made (every leg, and an agent dial that never joined); counted in calls.started too. */
  legs: number;
  /** Complete conference summary `status`. */
  byStatus: Record<string, number>;
  /** Complete conference summary `end_reason`. */
  byEndReason: Record<string, number>;
  /** Complete conference summary `tags`, each conference once per tag. */
  byTag: Record<string, number>;
  /** Conferences by participants that joined ("1": a start failure, the customer alone). */
  byParticipants: Record<string, number>;
  /** Conferences whose conference-summary.complete was answered 2xx. */
  completeSummaryDelivered: number;
  participants: {
    /** Participant summaries planned, one per leg that joined. */
    planned: number;
    byLabel: Record<string, number>;
    byCallType: Record<string, number>;
    /** Participant `call_direction`: inbound or outbound. */
    byDirection: Record<string, number>;
    /** coach (is_coach), else moderator (is_moderator), else participant. */
    byRole: Record<string, number>;
    /** Participants with hold actions. */
    held: number;
    /** Participant summaries answered 2xx. */
    summaryDelivered: number;
  };
}

/** A participant's role as the conference metrics count it: a coach first, then a moderator. */
export function participantRole(p: Pick<ParticipantPlan, 'isCoach' | 'isModerator'>): string {
  return p.isCoach ? 'coach' : p.isModerator ? 'moderator' : 'participant';
}

/** A URL with any `user:pass@` replaced, for printing. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}

const SIGNED_URL_FROM: Readonly<Record<PublicUrlSource, string>> = {
  '--public-url': 'given with --public-url',
  PUBLIC_URL: 'PUBLIC_URL from the environment or .env',
  '--target': 'the target, as neither --public-url nor PUBLIC_URL was given',
};

/**
 * When more than half of the answered deliveries were refused with 403, the likely cause for stderr:
 * the signature covers `signedUrl`, which must equal the URL the exporter verifies against (its
 * PUBLIC_URL, else the URL it rebuilds from the request), or the token is not the exporter's.
 */
export function signatureAdvice(
  report: Pick<SimReport, 'http'>,
  signedUrl: string,
  from: PublicUrlSource,
): string | undefined {
  const answered = Object.entries(report.http.byStatus)
    .filter(([status]) => /^\d{3}$/.test(status))
    .reduce((n, [, count]) => n + count, 0);
  const refused = report.http.byStatus['403'] ?? 0;
  if (answered === 0 || refused * 2 <= answered) return undefined;
  return [
    `simulate: ${refused} of ${answered} answered deliveries (${Math.round((100 * refused) / answered)} %) were refused with 403: the exporter did not verify their signature.`,
    `  The simulator signed ${maskUrl(signedUrl)} (${SIGNED_URL_FROM[from]}).`,
    '  The exporter verifies against its own PUBLIC_URL or, without one, the URL it rebuilds from the request (Host header and path; X-Forwarded-Proto/Host with TRUST_PROXY=true). The two must match exactly: scheme, host (localhost is not 127.0.0.1), port and path.',
    "  Pass --public-url with the exporter's PUBLIC_URL, and check that --token (default TWILIO_AUTH_TOKEN) is the exporter's TWILIO_AUTH_TOKEN: a wrong token is refused the same way.",
  ].join('\n');
}

function bump(record: Record<string, number>, key: string, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

export class ReportBuilder {
  private readonly startedAt: number;
  private readonly calls: SimReport['calls'] = {
    started: 0,
    byType: {},
    byOutcome: {},
    byState: {},
    completeSummaryDelivered: 0,
  };
  private readonly conferences: ConferenceCounts = {
    started: 0,
    legs: 0,
    byStatus: {},
    byEndReason: {},
    byTag: {},
    byParticipants: {},
    completeSummaryDelivered: 0,
    participants: {
      planned: 0,
      byLabel: {},
      byCallType: {},
      byDirection: {},
      byRole: {},
      held: 0,
      summaryDelivered: 0,
    },
  };
  private readonly byType: Record<string, TypeCounts> = {};
  private deliveries = 0;
  private duplicates = 0;
  private reordered = 0;
  private readonly samples = { gateway: 0, sdk: 0 };
  private readonly packets: SimReport['intervalPackets'] = { byEdge: {}, received: 0, lost: 0, sent: 0 };
  private readonly byStatus: Record<string, number> = {};

  private readonly settings: SimReport['settings'];

  constructor(settings: SimReport['settings'], startedAtMs: number) {
    this.settings = { ...settings, target: maskUrl(settings.target) };
    this.startedAt = startedAtMs;
  }

  callStarted(plan: CallPlan, events: readonly SimEvent[]): void {
    this.calls.started++;
    bump(this.calls.byType, plan.callType);
    bump(this.calls.byOutcome, plan.flavour);
    bump(this.calls.byState, plan.callState);
    for (const e of events) this.counts(e.type).planned++;
  }

  /** A conference and its Conference Insights events; its legs are reported by callStarted. */
  conferenceStarted(plan: ConferencePlan, events: readonly SimEvent[]): void {
    const c = this.conferences;
    c.started++;
    c.legs += plan.calls.length;
    bump(c.byStatus, plan.status);
    bump(c.byEndReason, plan.endReason);
    for (const tag of new Set(plan.tags)) bump(c.byTag, tag);
    bump(c.byParticipants, String(plan.participants.length));
    for (const p of plan.participants) {
      c.participants.planned++;
      bump(c.participants.byLabel, p.label);
      bump(c.participants.byCallType, p.call.callType);
      bump(c.participants.byDirection, p.call.direction === 'inbound' ? 'inbound' : 'outbound');
      bump(c.participants.byRole, participantRole(p));
      if (p.actions.some((a) => a.name === 'hold')) c.participants.held++;
    }
    for (const e of events) this.counts(e.type).planned++;
  }

  /** Called as a delivery is handed to the sender. */
  sending(d: Delivery): void {
    this.deliveries++;
    const counts = this.counts(d.event.type);
    if (d.state.sent) {
      this.duplicates++;
      counts.duplicates++;
    } else {
      d.state.sent = true;
      counts.sent++;
    }
    if (d.reordered) this.reordered++;
  }

  answered(d: Delivery, answer: Answer): void {
    bump(this.byStatus, String(answer));
    if (typeof answer !== 'number' || answer < 200 || answer > 299 || d.state.delivered) return;
    d.state.delivered = true;
    const e = d.event;
    this.counts(e.type).delivered++;
    if (e.type === 'com.twilio.voice.insights.call-summary.complete') this.calls.completeSummaryDelivered++;
    if (e.type === CONFERENCE_TYPES_SENT.complete) this.conferences.completeSummaryDelivered++;
    if (e.type === CONFERENCE_TYPES_SENT.participant) this.conferences.participants.summaryDelivered++;
    if (e.packets) {
      if (e.packets.edge === 'sdk_edge') this.samples.sdk++;
      else this.samples.gateway++;
      const edge = (this.packets.byEdge[e.packets.edge] ??= { received: 0, lost: 0, sent: 0 });
      edge.received += e.packets.received;
      edge.lost += e.packets.lost;
      edge.sent += e.packets.sent;
      this.packets.received += e.packets.received;
      this.packets.lost += e.packets.lost;
      this.packets.sent += e.packets.sent;
    }
  }

  finish(nowMs: number, undelivered: number, interrupted: boolean): SimReport {
    const types = Object.values(this.byType);
    const sum = (k: keyof TypeCounts) => types.reduce((s, c) => s + c[k], 0);
    return {
      settings: this.settings,
      startedAt: new Date(this.startedAt).toISOString(),
      wallSeconds: Math.round(nowMs - this.startedAt) / 1000,
      interrupted,
      calls: structuredClone(this.calls),
      conferences: structuredClone(this.conferences),
      events: {
        byType: structuredClone(this.byType),
        planned: sum('planned'),
        sent: sum('sent'),
        delivered: sum('delivered'),
        deliveries: this.deliveries,
        duplicatesSent: this.duplicates,
        reorderedSent: this.reordered,
        undelivered,
      },
      metricSamples: { ...this.samples },
      intervalPackets: structuredClone(this.packets),
      http: { byStatus: { ...this.byStatus } },
    };
  }

  private counts(type: string): TypeCounts {
    return (this.byType[type] ??= { planned: 0, sent: 0, delivered: 0, duplicates: 0 });
  }
}
