// Latency at a fixed arrival rate (open loop): each exporter at half the single-event maximum it
// reached in the closed-loop runs, and the baseline at the embedded exporter's rate as the floor of
// what the client and loopback add. Latency counts from each request's scheduled send time.
import type { ServerKey, Target } from './ab.js';
import { LoadClient } from './client.js';
import { Usage } from './proc.js';
import { quantile } from './stats.js';
import type { Cursor } from './traffic.js';

export interface OpenLoopRow {
  server: ServerKey;
  ratePerS: number;
  seconds: number;
  requests: number;
  achievedPerS: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  non2xx: number;
  cpuSeconds: number;
  /** How late the client issued requests after their scheduled time (p99): the schedule held if small. */
  clientLagP99Us: number;
  /** p99 over the baseline's p99 at its rate (filled in once every row is measured). */
  p99RatioToBaseline?: number;
}

/** Sockets the open-loop client may open: enough that a slow answer never holds back the schedule. */
const MAX_SOCKETS = 256;

export async function runOpenLoop(
  target: Target,
  ratePerS: number,
  seconds: number,
  warmupSeconds: number,
  cursor: Cursor,
): Promise<OpenLoopRow> {
  const client = new LoadClient(target.port, MAX_SOCKETS);
  try {
    cursor.reserve(Math.ceil(ratePerS * (seconds + warmupSeconds)) + 1);
    // The same rate unmeasured first: a server that was idle or flat out settles into this regime.
    await client.openLoop({ ratePerSecond: ratePerS, durationMs: warmupSeconds * 1000, next: () => cursor.next() });
    const usage = new Usage(target.pid);
    const result = await client.openLoop({
      ratePerSecond: ratePerS,
      durationMs: seconds * 1000,
      next: () => cursor.next(),
    });
    const used = usage.end();
    const sorted = result.latenciesUs.slice().sort();
    const lag = (result.scheduleLagUs ?? new Float64Array()).slice().sort();
    return {
      server: target.key,
      ratePerS,
      seconds: result.seconds,
      requests: result.requests,
      achievedPerS: result.requests / result.seconds,
      p50Us: quantile(sorted, 0.5),
      p99Us: quantile(sorted, 0.99),
      maxUs: quantile(sorted, 1),
      non2xx: result.non2xx,
      cpuSeconds: used.cpuSeconds,
      clientLagP99Us: quantile(lag, 0.99),
    };
  } finally {
    client.close();
  }
}
