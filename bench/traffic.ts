// Realistic signed Twilio traffic from the simulator's generator, made before it is sent so the client
// spends its CPU on requests only. A steady population of calls, each sending its own CloudEvents in
// their order (call events and metric samples as they happen, then partial, predicted-complete and
// complete summaries): every CloudEvent id is new, and complete summaries finalise calls and export
// their traces as in production. Bodies are JSON arrays signed as Twilio signs them.
import { planCall } from '../src/sim/call-plan.js';
import { callCloudEvents, type CloudEvent, type EventClock, type SimEvent } from '../src/sim/cloudevents.js';
import { signTwilioRequest } from '../src/http/signature.js';

export interface SignedBody {
  /** Request path and query (`/events?bodySHA256=...`). */
  path: string;
  signature: string;
  body: Buffer;
  events: number;
}

export interface Signer {
  token: string;
  /** The sink URL as configured in Twilio: what the signature covers (the exporter's PUBLIC_URL). */
  publicUrl: string;
}

export function signBody(signer: Signer, events: readonly unknown[]): SignedBody {
  const body = Buffer.from(JSON.stringify(events));
  const signed = signTwilioRequest(signer.token, signer.publicUrl, body);
  const url = new URL(signed.url);
  return { path: `${url.pathname}${url.search}`, signature: signed.signature, body, events: events.length };
}

interface LiveCall {
  events: SimEvent[];
  next: number;
  clock: EventClock;
}

/** An endless stream of CloudEvents from `window` calls in progress at once, round robin. */
export class EventStream {
  private readonly calls: LiveCall[] = [];
  private slot = 0;
  private index = 0;

  constructor(
    private readonly seed: number,
    window: number,
    private readonly nowMs = Date.now(),
  ) {
    for (let i = 0; i < window; i++) this.calls.push(this.newCall());
  }

  private newCall(): LiveCall {
    const plan = planCall(this.seed, this.index++, { badShare: 0.1 });
    // Over 35 minutes ago, so even the complete summary (up to 30 min after the end) is in the past.
    const created = this.nowMs - plan.endMs - 35 * 60_000;
    const clock: EventClock = { epochMs: (simMs) => created + simMs, emittedAtMs: created + plan.endMs + 1000 };
    const rank = (e: SimEvent) => (e.timing === 'realtime' ? e.readyMs : Number.MAX_SAFE_INTEGER);
    const events = callCloudEvents(plan).sort((a, b) => rank(a) - rank(b));
    return { events, next: 0, clock };
  }

  next(): CloudEvent {
    for (;;) {
      const slot = this.slot;
      this.slot = (this.slot + 1) % this.calls.length;
      const call = this.calls[slot];
      if (call === undefined) throw new Error('empty call window');
      const event = call.events[call.next++];
      if (call.next >= call.events.length) this.calls[slot] = this.newCall();
      if (event !== undefined) return event.build(call.clock);
    }
  }

  take(n: number): CloudEvent[] {
    return Array.from({ length: n }, () => this.next());
  }
}

/** Signed bodies of `eventsPerBody` events each, generated on demand and kept for reuse by position. */
export class BodyPool {
  private readonly bodies: SignedBody[] = [];
  private readonly stream: EventStream;

  constructor(
    private readonly signer: Signer,
    seed: number,
    readonly eventsPerBody: number,
  ) {
    this.stream = new EventStream(seed, 300);
  }

  get size(): number {
    return this.bodies.length;
  }

  /** Generates bodies until there are at least `count`. */
  ensure(count: number): void {
    while (this.bodies.length < count) this.bodies.push(signBody(this.signer, this.stream.take(this.eventsPerBody)));
  }

  at(i: number): SignedBody | undefined {
    return this.bodies[i];
  }

  bytes(): number {
    return this.bodies.reduce((sum, b) => sum + b.body.length, 0);
  }
}

/**
 * One server's position in a pool. The exporter must only ever see new event ids, so its cursor never
 * goes back (and the run ends early if the pool runs out); the baseline parses without remembering,
 * so its cursor wraps around.
 */
export class Cursor {
  position = 0;
  exhausted = false;

  constructor(
    readonly pool: BodyPool,
    private readonly wrap: boolean,
  ) {}

  next(): SignedBody | undefined {
    if (this.pool.size === 0) return undefined;
    if (this.position >= this.pool.size) {
      if (!this.wrap) {
        this.exhausted = true;
        return undefined;
      }
      this.position = 0;
    }
    return this.pool.at(this.position++);
  }

  /** Makes sure `count` more bodies are ready past this cursor; a wrapping cursor reuses what there is. */
  reserve(count: number): void {
    this.pool.ensure(this.wrap ? 1 : this.position + count);
  }
}
