// A lean keep-alive HTTP client for loopback load: pre-signed bodies, pre-built headers, one
// node:http Agent. Closed loop: N workers, each sending its next request when the last one answered,
// for a fixed time. Open loop: requests at a fixed arrival rate whatever the server does, latency
// measured from each request's scheduled send time (so a stalled server is not hidden by a client that
// waits for it: no coordinated omission).
import { Agent, request } from 'node:http';
import type { SignedBody } from './traffic.js';

export interface RunResult {
  requests: number;
  events: number;
  /** Answers other than 2xx, and requests that failed without an answer. */
  non2xx: number;
  errors: number;
  seconds: number;
  /** Acknowledgement latency of every answered request, in microseconds. */
  latenciesUs: Float64Array;
  /** The body source ran out before the time was up (the run is shorter than asked). */
  exhausted: boolean;
  /** Open loop: how late the client issued each request after its scheduled time, in microseconds. */
  scheduleLagUs?: Float64Array;
}

type Answer = number | 'error';

class Recorder {
  requests = 0;
  events = 0;
  non2xx = 0;
  errors = 0;
  private latencies = new Float64Array(1 << 16);
  private closed = false;

  record(body: SignedBody, answer: Answer, latencyNs: bigint): void {
    if (this.closed) return;
    if (answer === 'error') {
      this.errors++;
      this.non2xx++;
      return;
    }
    if (answer < 200 || answer > 299) this.non2xx++;
    else this.events += body.events;
    if (this.requests === this.latencies.length) {
      const grown = new Float64Array(this.latencies.length * 2);
      grown.set(this.latencies);
      this.latencies = grown;
    }
    this.latencies[this.requests++] = Number(latencyNs) / 1000;
  }

  /** Counts `n` requests as failed and ignores whatever answers arrive later. */
  abandon(n: number): void {
    this.errors += n;
    this.non2xx += n;
    this.closed = true;
  }

  result(seconds: number, exhausted: boolean): RunResult {
    this.closed = true;
    return {
      requests: this.requests,
      events: this.events,
      non2xx: this.non2xx,
      errors: this.errors,
      seconds,
      latenciesUs: this.latencies.slice(0, this.requests),
      exhausted,
    };
  }
}

export class LoadClient {
  private readonly agent: Agent;

  constructor(
    private readonly port: number,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(body: SignedBody): Promise<Answer> {
    return new Promise<Answer>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: body.path,
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': body.body.length,
            'x-twilio-signature': body.signature,
          },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode ?? 'error'));
          res.on('error', () => resolve('error'));
        },
      );
      req.on('error', () => resolve('error'));
      req.end(body.body);
    });
  }

  /** `concurrency` workers back to back for `durationMs`. */
  async closedLoop(opts: {
    concurrency: number;
    durationMs: number;
    next: () => SignedBody | undefined;
  }): Promise<RunResult> {
    const rec = new Recorder();
    const start = process.hrtime.bigint();
    const end = start + BigInt(Math.round(opts.durationMs * 1e6));
    let exhausted = false;
    const worker = async () => {
      for (;;) {
        if (process.hrtime.bigint() >= end) return;
        const body = opts.next();
        if (body === undefined) {
          exhausted = true;
          return;
        }
        const sent = process.hrtime.bigint();
        const answer = await this.post(body);
        rec.record(body, answer, process.hrtime.bigint() - sent);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    return rec.result(Number(process.hrtime.bigint() - start) / 1e9, exhausted);
  }

  /**
   * `ratePerSecond` requests a second for `durationMs`, each timed from when it was due. Requests still
   * unanswered `drainMs` after the last was due count as errors.
   */
  async openLoop(opts: {
    ratePerSecond: number;
    durationMs: number;
    next: () => SignedBody | undefined;
    drainMs?: number;
  }): Promise<RunResult> {
    const rec = new Recorder();
    const total = Math.floor((opts.ratePerSecond * opts.durationMs) / 1000);
    const intervalNs = 1e9 / opts.ratePerSecond;
    const start = process.hrtime.bigint();
    const inFlight = new Set<Promise<void>>();
    let exhausted = false;
    let sent = 0;
    const lag: number[] = [];
    while (sent < total) {
      const elapsedNs = Number(process.hrtime.bigint() - start);
      const due = Math.min(total, Math.floor(elapsedNs / intervalNs) + 1);
      for (; sent < due; sent++) {
        const body = opts.next();
        if (body === undefined) {
          exhausted = true;
          sent = total;
          break;
        }
        const scheduled = start + BigInt(Math.round(sent * intervalNs));
        lag.push(Number(process.hrtime.bigint() - scheduled) / 1000);
        const p = this.post(body).then((answer) => {
          rec.record(body, answer, process.hrtime.bigint() - scheduled);
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      const nextDueNs = sent * intervalNs - Number(process.hrtime.bigint() - start);
      // Timers fire on whole milliseconds at best: wait when the next request is a millisecond away,
      // otherwise let answers be read and send what is due.
      await new Promise<void>((resolve) => {
        if (nextDueNs >= 1e6) setTimeout(resolve, Math.floor(nextDueNs / 1e6));
        else setImmediate(resolve);
      });
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const drained = Promise.all(inFlight).then(() => true);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), opts.drainMs ?? 10_000).unref());
    if (!(await Promise.race([drained, timeout]))) rec.abandon(inFlight.size);
    return { ...rec.result(seconds, exhausted), scheduleLagUs: Float64Array.from(lag) };
  }

  close(): void {
    this.agent.destroy();
  }
}
