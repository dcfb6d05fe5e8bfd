// `npm run demo`: the exporter in-process with a throw-away configuration, fed by the simulator at
// speed 60 with 20 % bad calls and 20 % of calls in conferences, until Ctrl-C (or for DEMO_DURATION
// seconds). Prints where to look, then the simulator's report when it stops.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../app.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { simulate } from './simulate.js';

const SPEED = 60;
const BAD_SHARE = 0.2;
/** Conferences of 2-4 legs, so the conference panels and traces have data. */
const CONFERENCE_SHARE = 0.2;

async function main(): Promise<void> {
  const env = process.env;
  const port = env['PORT'] ?? '8080';
  const path = env['WEBHOOK_PATH'] ?? '/events';
  const webhookUrl = `http://127.0.0.1:${port}${path}`;
  const token = randomBytes(16).toString('hex');
  const dataDir = await mkdtemp(join(tmpdir(), 'vie-demo-'));
  const config = loadConfig({
    ...env,
    PORT: port,
    WEBHOOK_PATH: path,
    TWILIO_AUTH_TOKEN: token,
    PUBLIC_URL: webhookUrl,
    DATA_DIR: dataDir,
    LOG_LEVEL: env['LOG_LEVEL'] ?? 'warn',
    // Traces only when there is somewhere to send them.
    OTEL_TRACES_EXPORTER:
      env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
        ? (env['OTEL_TRACES_EXPORTER'] ?? 'otlp')
        : 'none',
  });
  if (!config.ok) throw new Error(`demo configuration invalid: ${config.problems.join('; ')}`);
  const app = await createApp(config.config, { clock: systemClock, logger: createLogger(config.config.logLevel) });
  const { metricsPort } = await app.start();
  const durationS = Number(env['DEMO_DURATION'] ?? 'Infinity');
  const rate = Number(env['DEMO_RATE'] ?? '2');
  const traces = config.config.traces
    ? `traces go to ${env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT']}`
    : 'traces are off: set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4318, an OTel Collector or Jaeger) to send one trace per call';
  process.stdout
    .write(`voice-insights-exporter demo: simulated Twilio traffic, ${rate} calls/s at speed ${SPEED} (${BAD_SHARE * 100} % bad, ${CONFERENCE_SHARE * 100} % conferences of 2-4 legs)${Number.isFinite(durationS) ? ` for ${durationS} s, then up to ~1 min for the last summaries` : ''}
  webhook  ${webhookUrl}
  metrics  http://localhost:${metricsPort}/metrics
  ${traces}; find a call's trace by its CallSid's 32 hex digits, a conference's by its ConferenceSid's
  complete summaries (twilio_voice_calls_total) start after ~${Math.round((30 * 60) / SPEED)} s: Twilio sends them 30 min after a call ends
try in Prometheus:
  sum by (edge) (rate(twilio_voice_packets_lost_total[1m])) / sum by (edge) (rate(twilio_voice_packets_received_total[1m]))
  histogram_quantile(0.95, sum by (le, edge) (rate(twilio_voice_interval_jitter_seconds_bucket[1m])))
  sum by (tag) (increase(twilio_voice_call_quality_tags_total[5m]))
  sum by (status, end_reason) (increase(twilio_voice_conferences_total[5m]))
Ctrl-C stops and prints the simulator's report.
`);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  try {
    const report = await simulate(
      {
        target: webhookUrl,
        publicUrl: webhookUrl,
        token,
        durationSeconds: durationS,
        rate,
        badShare: BAD_SHARE,
        speed: SPEED,
        seed: randomBytes(4).readUInt32LE(0),
        duplicateShare: 0.02,
        outOfOrderShare: 0.05,
        conferenceShare: CONFERENCE_SHARE,
        concurrency: 32,
      },
      {
        signal: stop.signal,
        progressEveryMs: 30_000,
        onProgress: (r) =>
          process.stdout.write(
            `demo: ${r.calls.started} calls (${r.conferences.started} conferences), ${r.events.deliveries} deliveries, answers ${JSON.stringify(r.http.byStatus)}\n`,
          ),
      },
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
