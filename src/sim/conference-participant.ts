// What Conference Insights reports about one leg of a simulated conference besides its call: label,
// moderator and coach flags, the participant's settings, its hold, mute and coaching actions, and the
// quality of its streams; plus the conference-wide figures derived from its participants (most at
// once, tags). Reference: /work/shared/reference/twilio-call-insights.md section 7;
// https://www.twilio.com/docs/voice/voice-insights/api/conference/participant-summary-resource
import type { CallPlan } from './call-plan.js';
import { participantQuality, type ParticipantQuality } from './conference-quality.js';
import type { CallDirection } from './model.js';
import { sid, type Rng } from './random.js';

export type ParticipantLabel = 'customer' | 'agent' | 'supervisor' | 'external';

/** Participant `events` keys (reference section 7). */
export type ParticipantActionName = 'hold' | 'unhold' | 'mute' | 'unmute' | 'coaching' | 'coaching_stopped';

export interface ParticipantPlan {
  label: ParticipantLabel;
  call: CallPlan;
  participantSid: string;
  joinMs: number;
  leaveMs: number;
  isModerator: boolean;
  isCoach: boolean;
  /** CallSids of the participants this one coaches. */
  coached: string[];
  /** Hold, mute and coaching actions in time order (sent as epoch ms per action name). */
  actions: { name: ParticipantActionName; atMs: number }[];
  jitterBufferSize: 'small' | 'medium' | 'large' | 'off';
  /** The participant's settings as the summary's `properties` reports them. */
  properties: {
    start_conference_on_enter: boolean;
    end_conference_on_exit: boolean;
    enter_muted: boolean;
    beep_on_enter: boolean;
    beep_on_exit: boolean;
    play_early_media: boolean;
  };
  /** Legs the Participants API dialled: how many waited before it and how long it waited (ms). */
  outboundQueue: { length: number; timeMs: number } | undefined;
  inbound: ParticipantQuality;
  outbound: ParticipantQuality;
}

/** One leg as it joined and left. */
export interface LegStay {
  label: ParticipantLabel;
  direction: CallDirection;
  /** CPS queueing of an API-dialled leg (ms). */
  queueMs: number;
  joinMs: number;
  leaveMs: number;
}

export interface ParticipantContext {
  /** When the conference started; undefined when it never did. */
  startMs: number | undefined;
  /** The agent's CallSid, whom a supervisor coaches. */
  agentCallSid: string | undefined;
  /** This leg's leaving ended the conference through endConferenceOnExit. */
  endsOnExit: boolean;
}

const SECOND = 1000;

export function participantOf(rng: Rng, leg: LegStay, call: CallPlan, c: ParticipantContext): ParticipantPlan {
  const participantSid = sid('CP', rng);
  const coaches = leg.label === 'supervisor' && c.agentCallSid !== undefined && rng.chance(0.5);
  const actions = actionsOf(rng, leg, c.startMs, coaches);
  const apiDialled = leg.direction === 'outbound_api';
  return {
    label: leg.label,
    call,
    participantSid,
    joinMs: leg.joinMs,
    leaveMs: leg.leaveMs,
    isModerator: leg.label === 'agent',
    isCoach: coaches,
    coached: coaches && c.agentCallSid !== undefined ? [c.agentCallSid] : [],
    actions,
    jitterBufferSize: rng.weighted<ParticipantPlan['jitterBufferSize']>([
      ['small', 50],
      ['medium', 25],
      ['large', 10],
      ['off', 15],
    ]),
    properties: {
      start_conference_on_enter: leg.label === 'agent',
      end_conference_on_exit: c.endsOnExit,
      enter_muted: leg.label === 'supervisor' && !coaches,
      beep_on_enter: leg.label === 'external',
      beep_on_exit: leg.label === 'external',
      play_early_media: false,
    },
    outboundQueue: apiDialled ? { length: leg.queueMs > 0 ? rng.int(1, 5) : 0, timeMs: leg.queueMs } : undefined,
    ...participantQuality(call),
  };
}

/**
 * The agent holds the customer once or twice (to consult, to look something up) and sometimes mutes;
 * a supervisor either coaches the agent (the agent hears, the customer does not) or monitors muted and
 * sometimes barges in.
 */
function actionsOf(rng: Rng, leg: LegStay, startMs: number | undefined, coaches: boolean): ParticipantPlan['actions'] {
  const actions: ParticipantPlan['actions'] = [];
  const stay = leg.leaveMs - leg.joinMs;
  const at = (fraction: number) => leg.joinMs + Math.round(stay * fraction);
  if (leg.label === 'customer' && startMs !== undefined && rng.chance(0.35)) {
    const from = startMs + 5 * SECOND;
    const span = leg.leaveMs - 10 * SECOND - from;
    const holds = rng.int(1, 2);
    const slot = span / holds;
    for (let k = 0; k < holds && slot > 10 * SECOND; k++) {
      const holdAt = Math.round(from + k * slot + rng.between(0, slot * 0.5));
      actions.push({ name: 'hold', atMs: holdAt });
      actions.push({ name: 'unhold', atMs: holdAt + Math.round(Math.min(rng.between(5, 60) * SECOND, slot * 0.45)) });
    }
  } else if (leg.label === 'agent' && stay > 30 * SECOND && rng.chance(0.2)) {
    const muteAt = at(rng.between(0.2, 0.6));
    actions.push({ name: 'mute', atMs: muteAt });
    actions.push({ name: 'unmute', atMs: muteAt + Math.round(Math.min(rng.between(3, 20) * SECOND, stay * 0.3)) });
  } else if (leg.label === 'supervisor' && coaches) {
    actions.push({ name: 'coaching', atMs: leg.joinMs });
    if (rng.chance(0.4)) actions.push({ name: 'coaching_stopped', atMs: at(rng.between(0.3, 0.8)) });
  } else if (leg.label === 'supervisor') {
    actions.push({ name: 'mute', atMs: leg.joinMs });
    if (rng.chance(0.3)) actions.push({ name: 'unmute', atMs: at(rng.between(0.3, 0.7)) });
  }
  return actions.sort((a, b) => a.atMs - b.atMs);
}

/** Most participants at once: a sweep over joins and leaves (a leave at the same moment goes first). */
export function maxConcurrent(participants: readonly Pick<ParticipantPlan, 'joinMs' | 'leaveMs'>[]): number {
  const moments = participants.flatMap((p): [number, number][] => [
    [p.joinMs, 1],
    [p.leaveMs, -1],
  ]);
  moments.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, step] of moments) {
    now += step;
    max = Math.max(max, now);
  }
  return max;
}

/** Conference tags from its participants' streams: quality_warnings plus the specific ones (section 7 list). */
export function conferenceTags(participants: readonly ParticipantPlan[]): string[] {
  const seen = new Set(participants.flatMap((p) => [...p.inbound.tags, ...p.outbound.tags]));
  const quality = ['high_jitter', 'high_packet_loss', 'high_latency', 'low_mos'].filter((t) => seen.has(t));
  const tags = quality.length > 0 ? ['quality_warnings', ...quality] : [];
  if (seen.has('detected_silence')) tags.push('detected_silence');
  return tags;
}
