// The simulator's run loop: starts calls at `rate` per second of wall time for `durationSeconds` (a
// share of them become conferences of several legs), schedules each call's CloudEvents as Twilio
// would deliver them (schedule.ts), sends them when due with bounded concurrency, then drains what is
// still scheduled, bounded by `maxWaitSeconds`.
// Clock, sleep and transport are injectable, so tests can run it in virtual time without HTTP.
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { planCall } from './call-plan.js';
import { callCloudEvents } from './cloudevents.js';
import { conferenceCloudEvents } from './conference-events.js';
import { isConferenceSlot, planConference } from './conference-plan.js';
import { MinHeap } from './heap.js';
import { Pool } from './pool.js';
import { ReportBuilder, type SimReport } from './report.js';
import { maxTrailMs, scheduleCall, scheduleConference, type Delivery } from './schedule.js';
import { createHttpPoster, type Answer, type Poster } from './sender.js';

export interface SimulateOptions {
  target: string;
  token: string;
  publicUrl: string;
  /** Seconds of wall time during which new calls start; Infinity runs until aborted. */
  durationSeconds: number;
  /** New calls per second of wall time. */
  rate: number;
  badShare: number;
  /** Time compression, >= 1: a call and every Twilio delay take 1/speed of their real time. */
  speed: number;
  seed: number;
  duplicateShare: number;
  outOfOrderShare: number;
  /**
   * Share (0..1) of new calls that become a conference of 2-4 legs (customer, agent, sometimes a
   * supervisor and a third party), each leg a call of its own; default DEFAULT_CONFERENCE_SHARE.
   */
  conferenceShare?: number;
  /** Requests in flight at most. */
  concurrency: number;
  /** Longest wait after the last call started for the remaining deliveries; default: until all are sent. */
  maxWaitSeconds?: number;
  /** Per-request answer timeout; Twilio waits 5 s (reference §5). */
  requestTimeoutMs?: number;
}

/** Contact centres put most calls into conferences; a fifth keeps plain calls the bulk of the traffic. */
export const DEFAULT_CONFERENCE_SHARE = 0.2;

export interface SimulateDeps {
  clock?: Clock;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** Transport; default: signed HTTP POSTs to options.target. */
  poster?: Poster;
  /** Stops the run: no new calls or deliveries; in-flight requests finish and the report is returned. */
  signal?: AbortSignal;
  /** Called about every progressEveryMs of wall time with the report so far. */
  onProgress?: (report: SimReport) => void;
  progressEveryMs?: number;
}

async function realSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleepFor(ms, undefined, signal === undefined ? undefined : { signal });
  } catch {
    // aborted: the loop checks the signal itself
  }
}

export async function simulate(options: SimulateOptions, deps: SimulateDeps = {}): Promise<SimReport> {
  const clock = deps.clock ?? systemClock;
  const sleep = deps.sleep ?? realSleep;
  const signal = deps.signal;
  const poster =
    deps.poster ??
    createHttpPoster({
      target: options.target,
      publicUrl: options.publicUrl,
      token: options.token,
      timeoutMs: options.requestTimeoutMs ?? 5000,
      maxSockets: options.concurrency,
    });
  const startMs = clock.now();
  const conferenceShare = options.conferenceShare ?? DEFAULT_CONFERENCE_SHARE;
  const report = new ReportBuilder(
    {
      target: options.target,
      seed: options.seed,
      rate: options.rate,
      durationSeconds: Number.isFinite(options.durationSeconds) ? options.durationSeconds : null,
      speed: options.speed,
      badShare: options.badShare,
      duplicateShare: options.duplicateShare,
      outOfOrderShare: options.outOfOrderShare,
      conferenceShare,
    },
    startMs,
  );
  const queue = new MinHeap<Delivery>((d) => d.dueMs);
  const pool = new Pool(options.concurrency);
  const callEveryMs = 1000 / options.rate;
  const generationEndMs = startMs + options.durationSeconds * 1000;
  const waitMs =
    options.maxWaitSeconds === undefined ? maxTrailMs(options.speed) + 5000 : options.maxWaitSeconds * 1000;
  const deadlineMs = generationEndMs + waitMs;
  const scheduleOptions = {
    speed: options.speed,
    duplicateShare: options.duplicateShare,
    outOfOrderShare: options.outOfOrderShare,
  };
  const progressEveryMs = deps.progressEveryMs ?? 10_000;
  let nextProgressMs = startMs + progressEveryMs;
  let callIndex = 0;
  const nextCallMs = () => startMs + callIndex * callEveryMs;

  const send = async (d: Delivery): Promise<void> => {
    report.sending(d);
    const body = Buffer.from(JSON.stringify([d.event.build(d.clock)]));
    let answer: Answer;
    try {
      answer = await poster.post(body);
    } catch {
      answer = 'error';
    }
    report.answered(d, answer);
  };

  try {
    for (;;) {
      if (signal?.aborted) break;
      let now = clock.now();
      // Calls start on a fixed grid from the start time, so a slow loop never changes the traffic.
      while (nextCallMs() < generationEndMs && nextCallMs() <= now) {
        const createdMs = nextCallMs();
        const planOptions = { badShare: options.badShare };
        if (isConferenceSlot(options.seed, callIndex, conferenceShare)) {
          // Every leg on the conference's time line, so joins and leaves fall within each leg's call.
          const conference = planConference(options.seed, callIndex, planOptions);
          for (const leg of conference.calls) {
            const events = callCloudEvents(leg);
            report.callStarted(leg, events);
            for (const d of scheduleCall(leg, events, createdMs, scheduleOptions, conference.lengthMs)) queue.push(d);
          }
          const events = conferenceCloudEvents(conference);
          report.conferenceStarted(conference, events);
          for (const d of scheduleConference(conference, events, createdMs, scheduleOptions)) queue.push(d);
        } else {
          const plan = planCall(options.seed, callIndex, planOptions);
          const events = callCloudEvents(plan);
          report.callStarted(plan, events);
          for (const d of scheduleCall(plan, events, createdMs, scheduleOptions)) queue.push(d);
        }
        callIndex++;
      }
      for (let due = queue.peek(); due !== undefined && due.dueMs <= now && !signal?.aborted; due = queue.peek()) {
        queue.pop();
        await pool.start(() => send(due));
      }
      now = clock.now();
      if (deps.onProgress && now >= nextProgressMs) {
        nextProgressMs = now + progressEveryMs;
        deps.onProgress(report.finish(now, queue.size, false));
      }
      const generating = nextCallMs() < generationEndMs;
      if (!generating && (queue.size === 0 || now >= deadlineMs)) break;
      const wakeMs = Math.min(
        generating ? nextCallMs() : Number.POSITIVE_INFINITY,
        queue.peek()?.dueMs ?? Number.POSITIVE_INFINITY,
        deadlineMs,
      );
      if (wakeMs > now) await sleep(Math.min(wakeMs - now, progressEveryMs), signal);
    }
    await pool.drain();
  } finally {
    if (deps.poster === undefined) poster.close();
  }
  return report.finish(clock.now(), queue.size, signal?.aborted === true);
}
