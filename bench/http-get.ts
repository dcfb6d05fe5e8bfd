// One GET on loopback, without keep-alive: for readiness polls and /metrics scrapes.
import { get } from 'node:http';

export interface GetResult {
  status: number;
  bytes: number;
  body: string;
}

/** The answer, or undefined when the connection failed or `timeoutMs` passed. */
export function httpGet(
  port: number,
  path: string,
  timeoutMs = 2000,
  keepBody = false,
): Promise<GetResult | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keepBody) chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, bytes, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Values of the exporter's own gauges (voice_insights_exporter_<name>) from its /metrics; NaN if absent. */
export async function selfGauges<N extends string>(
  metricsPort: number,
  names: readonly N[],
): Promise<Record<N, number>> {
  const answer = await httpGet(metricsPort, '/metrics', 30_000, true);
  const out = {} as Record<N, number>;
  for (const name of names) {
    const match = new RegExp(`^voice_insights_exporter_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(answer?.body ?? '');
    out[name] = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  }
  return out;
}

/** The exporter's calls_in_flight gauge. */
export async function callsInFlight(metricsPort: number): Promise<number> {
  return (await selfGauges(metricsPort, ['calls_in_flight'])).calls_in_flight;
}
