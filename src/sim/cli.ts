// The `simulate` subcommand's action: validate options, run, print the JSON report on stdout
// (progress goes to stderr). Ctrl-C stops the run and still prints the report.
// Exit codes: 0 every delivery was answered 2xx, 1 some were not, 2 invalid options.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseSimulateOptions, type RawSimulateOptions } from './options.js';
import { maskUrl, signatureAdvice, type SimReport } from './report.js';
import { simulate } from './simulate.js';

const EXIT_CONFIG = 2;

/** True when every POST got a 2xx answer. */
export function allDelivered(report: SimReport): boolean {
  return Object.keys(report.http.byStatus).every((status) => /^2\d\d$/.test(status));
}

export async function runSimulateCommand(raw: RawSimulateOptions): Promise<void> {
  // Like `serve`: a .env in the working directory supplies TWILIO_AUTH_TOKEN / PUBLIC_URL / PORT defaults.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const parsed = parseSimulateOptions(raw, process.env);
  if (!parsed.ok) {
    process.stderr.write(
      `voice-insights-exporter simulate: invalid options:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    process.exitCode = EXIT_CONFIG;
    return;
  }
  const { options, reportFile, publicUrlFrom } = parsed;
  // Said once, as soon as the answers show it (a long run need not be waited out).
  let advised = false;
  const adviseOnce = (r: SimReport) => {
    const advice = advised ? undefined : signatureAdvice(r, options.publicUrl, publicUrlFrom);
    if (advice === undefined) return;
    advised = true;
    process.stderr.write(`${advice}\n`);
  };
  const stop = new AbortController();
  const onSigint = () => {
    process.stderr.write('simulate: stopping (Ctrl-C again to quit at once)\n');
    process.off('SIGINT', onSigint);
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  process.stderr.write(
    `simulate: ${options.rate} calls/s for ${options.durationSeconds} s at speed ${options.speed} -> ${maskUrl(options.target)}, signed for ${maskUrl(options.publicUrl)} (seed ${options.seed})\n`,
  );
  try {
    const report = await simulate(options, {
      signal: stop.signal,
      onProgress: (r) => {
        process.stderr.write(
          `simulate: ${r.calls.started} calls, ${r.events.deliveries} deliveries, ${r.events.undelivered} scheduled, answers ${JSON.stringify(r.http.byStatus)}\n`,
        );
        adviseOnce(r);
      },
    });
    adviseOnce(report);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    process.stdout.write(json);
    if (reportFile !== undefined) await writeFile(reportFile, json);
    process.exitCode = allDelivered(report) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
