// When Twilio delivers each of a call's events, compressed by --speed.
//
// Twilio's timing (/work/shared/reference/twilio-call-insights.md §1, from
// https://www.twilio.com/docs/voice/voice-insights/event-streams/call-insights-events, and §5):
//   call events and metrics: "typically within 90 s" of their timestamp;
//   partial summaries: several, the first "within ~10 min of call end";
//   predicted-complete: before the 30-min timer, ~10 min after the end (third-party catalogue, [3P]);
//   complete: "based on a 30-minute timer", up to 30 min after the end;
//   delivery is at-least-once and unordered: a retry re-sends the same event id later (§5).
// Every delay is divided by the speed factor, and so is the call itself.
//
// Timestamps: the call's last moment carries the wall-clock time at which its compressed playback
// reaches it, and earlier moments sit before it at their real spacing. So no event ever claims a time
// later than its delivery, and at speed 1 the lag the exporter measures is exactly Twilio's delay.
import type { CallPlan } from './call-plan.js';
import type { EventClock, SimEvent } from './cloudevents.js';
import type { ConferencePlan } from './conference-plan.js';
import { rngFor, type Rng } from './random.js';

export interface ScheduleOptions {
  speed: number;
  /** Share (0..1) of events delivered a second time, as after a lost acknowledgement. */
  duplicateShare: number;
  /** Share (0..1) of events held back as by a failed first attempt, so they arrive out of order. */
  outOfOrderShare: number;
}

/** One POST to make: an event, when, and whether it is a repeat. */
export interface Delivery {
  /** Wall-clock epoch ms at which to send. */
  dueMs: number;
  event: SimEvent;
  clock: EventClock;
  duplicate: boolean;
  reordered: boolean;
  callIndex: number;
  /** Shared by an event's deliveries: whether any of them was sent, and whether any was answered 2xx. */
  state: { sent: boolean; delivered: boolean };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Processing delay after an event is ready; most arrive within seconds, none later than ~90 s (§1). */
function realtimeDelay(rng: Rng, alreadyWaitedMs: number): number {
  const budget = Math.max(SECOND, 88 * SECOND - alreadyWaitedMs);
  return SECOND + (budget - SECOND) * rng.next() ** 2;
}

/** Sim ms after the call's end at which each summary is emitted, in summary order (partials, predicted, complete). */
export function summaryDelays(rng: Rng, partials: number): number[] {
  const partialDelays = Array.from({ length: partials }, () => rng.between(30 * SECOND, 10 * MINUTE)).sort(
    (a, b) => a - b,
  );
  const lastPartial = partialDelays[partialDelays.length - 1] ?? 0;
  const predicted = Math.max(
    lastPartial + rng.between(10 * SECOND, 60 * SECOND),
    rng.between(10 * MINUTE, 15 * MINUTE),
  );
  const complete = rng.between(29 * MINUTE, 30 * MINUTE);
  return [...partialDelays, predicted, complete];
}

/**
 * Epoch ms of the call's creation in its own timestamps: createdWall - length * (1 - 1/speed), whole
 * seconds. Then a moment t of the call is stamped anchor + t and delivered no earlier than
 * createdWall + t / speed, which is never before anchor + t.
 */
export function timestampAnchor(createdWallMs: number, callLengthMs: number, speed: number): number {
  return Math.floor((createdWallMs - callLengthMs * (1 - 1 / speed)) / SECOND) * SECOND;
}

export function scheduleCall(
  plan: CallPlan,
  events: readonly SimEvent[],
  createdWallMs: number,
  options: ScheduleOptions,
  /** The length its timestamps are anchored on: a conference leg shares its conference's (lengthMs). */
  lengthMs: number = plan.endMs,
): Delivery[] {
  const rng = rngFor(plan.seed, ...plan.keys, 'schedule');
  const anchor = timestampAnchor(createdWallMs, lengthMs, options.speed);
  const epochMs = (simMs: number) => anchor + simMs;
  const toWall = (simMs: number) => createdWallMs + simMs / options.speed;
  const summaries = summaryDelays(rng, plan.partials);
  let summaryIndex = 0;
  const deliveries: Delivery[] = [];
  for (const event of events) {
    const delay =
      event.timing === 'realtime'
        ? realtimeDelay(rng, event.readyMs - event.atMs)
        : (summaries[summaryIndex++] ?? 30 * MINUTE);
    const emittedWall = Math.round(toWall(event.readyMs + delay));
    deliveries.push(...deliveriesOf(rng, event, { epochMs, emittedAtMs: emittedWall }, options, plan.index));
  }
  return deliveries;
}

/**
 * Conference Insights events (reference section 7): the partial comes with the conference-start event
 * and a participant's summary with its participant-leave event, as promptly as call events; the
 * complete summary with the conference-end event, but Twilio says a completed conference summary "may
 * take up to 30 minutes to generate" (Conference Summary resource), so it may come before or after
 * the last participant's.
 */
export function scheduleConference(
  plan: ConferencePlan,
  events: readonly SimEvent[],
  createdWallMs: number,
  options: ScheduleOptions,
): Delivery[] {
  const rng = rngFor(plan.seed, plan.index, 'conference', 'schedule');
  const anchor = timestampAnchor(createdWallMs, plan.lengthMs, options.speed);
  const epochMs = (simMs: number) => anchor + simMs;
  const toWall = (simMs: number) => createdWallMs + simMs / options.speed;
  const deliveries: Delivery[] = [];
  for (const event of events) {
    const delay = event.timing === 'conference-end' ? rng.between(30 * SECOND, 30 * MINUTE) : realtimeDelay(rng, 0);
    const emittedWall = Math.round(toWall(event.readyMs + delay));
    deliveries.push(...deliveriesOf(rng, event, { epochMs, emittedAtMs: emittedWall }, options, plan.index));
  }
  return deliveries;
}

/** An event's POST, maybe held back to arrive out of order, and maybe a duplicate of it. */
function deliveriesOf(
  rng: Rng,
  event: SimEvent,
  clock: EventClock,
  options: ScheduleOptions,
  callIndex: number,
): Delivery[] {
  const state = { sent: false, delivered: false };
  // Held back as if the first attempt failed and Twilio retried with backoff (§5: 30 s to minutes).
  const reordered = rng.chance(options.outOfOrderShare);
  const dueMs = reordered
    ? clock.emittedAtMs + rng.between(30 * SECOND, 5 * MINUTE) / options.speed
    : clock.emittedAtMs;
  const first: Delivery = { dueMs, event, clock, duplicate: false, reordered, callIndex, state };
  if (!rng.chance(options.duplicateShare)) return [first];
  // At-least-once: the same event id again, after the retry Twilio makes when it saw no 2xx in time.
  return [
    first,
    {
      dueMs: dueMs + rng.between(5 * SECOND, 2 * MINUTE) / options.speed,
      event,
      clock,
      duplicate: true,
      reordered: false,
      callIndex,
      state,
    },
  ];
}

/** The longest a call's deliveries can trail its creation, in wall ms: for sizing the final wait. */
export function maxTrailMs(speed: number): number {
  // 15 min longest call or conference + 30 min complete summary + 5 min hold-back + 2 min duplicate gap.
  return (52 * MINUTE) / speed;
}
