// Signed senders that behave like Twilio, for the chaos tests (crash, replicas): deliveries of the
// simulator's realistic calls in bodies of 1 to 4, some repeated after their 2xx, some call events held
// back until after the complete summary; anything not answered 2xx is sent again. Also the accounting
// of what was acknowledged and the audit steps both tests run on the receiver's spans.
import { type Rng, rngFor } from '../../src/sim/random.js';
import { body, simCall, timestampMs, type CloudEvent, type SimCall, type TraceView } from './call-traffic.js';
import { waitFor } from './child.js';
import type { OtlpReceiver } from './otlp-receiver.js';
import { sendSigned, signForPublicUrl, sleep, type SignedRequest } from './restartable.js';

export interface TrafficOptions {
  token: string;
  seed: number;
  /** Calls being delivered at any moment (their deliveries interleave, as Twilio's do). */
  activeCalls: number;
  /** Share of acknowledged deliveries sent again later (alone or as the same body). */
  duplicateShare: number;
  /** Share of calls one of whose call-event bodies is delivered only after the complete summary was acknowledged. */
  lateShare: number;
}

export interface CallTraffic {
  call: SimCall;
  /** Bodies not yet handed to a sender, in order. */
  bodies: CloudEvent[][];
  /** Its complete summary is out and the bodies left wait for its 2xx (they then become late spans). */
  waiting: boolean;
}

export interface Delivery {
  traffic: CallTraffic;
  events: CloudEvent[];
  request: SignedRequest;
  repeat: boolean;
  /** Holds a complete summary: it can finalise a call (the replicas test keeps it off a replica about to be killed). */
  finalising: boolean;
}

/** Hands out deliveries: the next body of a random open call, now and then a repeat of an acknowledged one. */
export class Traffic {
  readonly calls: SimCall[] = [];
  /** Calls whose complete summary never comes (see openAbandoned). */
  readonly abandoned: SimCall[] = [];
  private readonly active: CallTraffic[] = [];
  private readonly repeats: Delivery[] = [];
  opening = true;
  inFlight = 0;
  /** Call events held back until after their call's complete summary: each must become a late span. */
  readonly heldBack: { call: SimCall; id: string }[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly opts: TrafficOptions,
  ) {}

  private sign(events: readonly CloudEvent[]): SignedRequest {
    return signForPublicUrl(this.opts.token, body(events));
  }

  /** Events and samples in time order, in bodies of 1 to 4 (Twilio batches), then the partial summaries. */
  private bodiesOf(call: SimCall): CloudEvent[][] {
    const stream = [...call.callEvents, ...call.metrics].sort((a, b) => timestampMs(a) - timestampMs(b));
    const bodies: CloudEvent[][] = [];
    while (stream.length > 0) bodies.push(stream.splice(0, this.rng.int(1, 4)));
    for (const partial of call.partials) bodies.push([partial]);
    return bodies;
  }

  private open(): void {
    const call = simCall(this.opts.seed, this.calls.length + this.abandoned.length);
    this.calls.push(call);
    const bodies = this.bodiesOf(call);
    bodies.push([call.complete]);
    // Out of order, as after a failed first attempt: one body of call events goes after the complete summary.
    const withEvents = bodies.filter((b) => b.some((e) => e.type.includes('.call-event.')));
    const held = withEvents.length > 0 && this.rng.chance(this.opts.lateShare) ? this.rng.pick(withEvents) : undefined;
    if (held !== undefined) {
      bodies.push(...bodies.splice(bodies.indexOf(held), 1));
      for (const e of held) if (e.type.includes('.call-event.')) this.heldBack.push({ call, id: e.id });
    }
    this.active.push({ call, bodies, waiting: false });
  }

  /** Calls whose complete summary never comes (clean ones: every partial summary is valid). */
  openAbandoned(n: number): void {
    for (let i = 0; i < n; i++) {
      const call = simCall(this.opts.seed, this.calls.length + this.abandoned.length, { badShare: 0 });
      this.abandoned.push(call);
      this.active.push({ call, bodies: this.bodiesOf(call), waiting: false });
    }
  }

  next(): Delivery | undefined {
    if (this.repeats.length > 0 && (this.rng.chance(0.1) || this.active.length === 0)) return this.repeats.shift();
    while (this.opening && this.active.length < this.opts.activeCalls) this.open();
    const ready = this.active.filter((t) => !t.waiting);
    if (ready.length === 0) return undefined;
    const traffic = this.rng.pick(ready);
    const events = traffic.bodies.shift();
    if (events === undefined) throw new Error('an active call without bodies');
    if (traffic.bodies.length === 0) this.active.splice(this.active.indexOf(traffic), 1);
    else if (events.includes(traffic.call.complete)) traffic.waiting = true;
    const finalising = events.includes(traffic.call.complete);
    return { traffic, events, request: this.sign(events), repeat: false, finalising };
  }

  /** After a 2xx: releases what waited for it; sometimes the same events again later, alone or as the same body. */
  acknowledged(d: Delivery): void {
    if (!d.repeat && d.events.includes(d.traffic.call.complete)) d.traffic.waiting = false;
    if (!this.rng.chance(this.opts.duplicateShare)) return;
    const events = this.rng.chance(0.5) ? d.events : [this.rng.pick(d.events)];
    this.repeats.push({
      ...d,
      events,
      request: this.sign(events),
      repeat: true,
      finalising: events.includes(d.traffic.call.complete),
    });
  }

  finished(): boolean {
    return !this.opening && this.active.length === 0 && this.repeats.length === 0 && this.inFlight === 0;
  }
}

export interface SenderStats {
  deliveries: number;
  repeats: number;
  attempts: number;
  answered5xx: number;
  networkErrors: number;
}

/** What the senders count: their stats, the CloudEvent ids answered 2xx, and every 4xx answer. */
export interface SenderAccounts {
  stats: SenderStats;
  acked: Set<string>;
  answered4xx: string[];
}

export function newAccounts(): SenderAccounts {
  return {
    stats: { deliveries: 0, repeats: 0, attempts: 0, answered5xx: 0, networkErrors: 0 },
    acked: new Set<string>(),
    answered4xx: [],
  };
}

export type Outcome = 'acknowledged' | 'refused' | 'retry';

/**
 * One attempt of a delivery to `origin`: 'acknowledged' on a 2xx; 'refused' on a 4xx (Twilio drops the
 * delivery: that would be data loss, so it is recorded and fails the test); 'retry' on a 5xx or a
 * network error (refused while down, reset by a kill, or timed out: Twilio retries).
 */
export async function attempt(origin: string, request: SignedRequest, accounts: SenderAccounts): Promise<Outcome> {
  accounts.stats.attempts++;
  try {
    const answer = await sendSigned(origin, request, 5000);
    if (answer.status >= 200 && answer.status < 300) return 'acknowledged';
    if (answer.status >= 400 && answer.status < 500) {
      accounts.answered4xx.push(`${answer.status} ${answer.text}`);
      return 'refused';
    }
    accounts.stats.answered5xx++;
  } catch {
    accounts.stats.networkErrors++;
  }
  return 'retry';
}

/**
 * Starts `count` senders (sender n draws from rngFor(seed, 'sender', n)) taking deliveries from
 * `traffic` until it is finished; `deliver` sends one until it is answered. Each answered delivery is
 * counted, its events recorded as acknowledged, and handed back to `traffic`.
 */
export function startSenders(
  count: number,
  seed: number,
  traffic: Traffic,
  accounts: SenderAccounts,
  deliver: (d: Delivery, rng: Rng) => Promise<void>,
): Promise<void>[] {
  const sender = async (n: number): Promise<void> => {
    const rng = rngFor(seed, 'sender', n);
    for (;;) {
      const d = traffic.next();
      if (d === undefined) {
        if (traffic.finished()) return;
        await sleep(10);
        continue;
      }
      traffic.inFlight++;
      try {
        await deliver(d, rng);
      } finally {
        traffic.inFlight--;
      }
      accounts.stats.deliveries++;
      if (d.repeat) accounts.stats.repeats++;
      for (const e of d.events) accounts.acked.add(e.id);
      traffic.acknowledged(d);
    }
  };
  return Array.from({ length: count }, (_, n) => sender(n));
}

/**
 * Waits until every call has its root span at the receiver and no more spans arrived for 1.5 s. False
 * on a timeout: the audit that follows still runs, so a failure names the calls and events missing.
 */
export function waitUntilDrained(
  receiver: OtlpReceiver,
  calls: readonly SimCall[],
  timeoutMs: number,
): Promise<boolean> {
  let lastCount = -1;
  let stableSince = Date.now();
  return waitFor(
    'every call to have its root span at the receiver, and no more spans arriving',
    () => {
      const spans = receiver.spans();
      if (spans.length !== lastCount) {
        lastCount = spans.length;
        stableSince = Date.now();
      }
      const roots = new Set(spans.filter((s) => s.parentSpanId === undefined).map((s) => s.traceId));
      return calls.every((c) => roots.has(c.traceId)) && Date.now() - stableSince > 1500;
    },
    { timeoutMs, intervalMs: 200 },
  ).then(
    () => true,
    () => false,
  );
}

/** The held-back call events that are not a span event of a late span of their call's trace (should be none). */
export function heldBackNotOnLateSpans(traffic: Traffic, traces: ReadonlyMap<string, TraceView>): string[] {
  return traffic.heldBack
    .filter(({ call, id }) => {
      const time = call.eventTimeNs.get(id);
      return !(traces.get(call.traceId)?.late ?? []).some((s) => s.events.some((e) => e.timeUnixNano === time));
    })
    .map(({ id }) => id);
}
