// The `replay FILE` command: recorded events through the same pipeline as the webhook, then the calls'
// spans to the OTLP backend. The JSON report goes to stdout; what went wrong, and what became of the
// data, to stderr in a few lines (no stack).
// Exit codes: 0 replayed and every span exported (or traces off); 2 the file cannot be read, or
// DATA_DIR cannot be used; 3 replayed (dedup and call state recorded) but spans were not exported:
// they wait in the outbox, or the backend refused them.
// Spans are written to the durable span outbox in the same commit as the call they belong to, so a
// failing backend loses nothing in the embedded or shared store: the next `serve` exports them. Replay
// tries once (the OTLP exporter retries within OTEL_EXPORTER_OTLP_TIMEOUT) instead of backing off.
import { join, resolve } from 'node:path';
import { createApp } from './app.js';
import { systemClock } from './clock.js';
import { maskStoreUrl, type Config } from './config.js';
import { createLogger } from './logger.js';
import { moveAsideIfDeadLetter, readReplayFile, ReplayFileError, replayText } from './pipeline/replay.js';
import { DEAD_LETTER_FILE } from './store/dead-letter.js';
import { SqlitePersistence, STATE_FILE } from './store/sqlite-persistence.js';
import type { ExportFailure } from './telemetry/span-shipper.js';

export const EXIT_REPLAY_UNUSABLE = 2;
export const EXIT_TRACES_NOT_EXPORTED = 3;

export interface ReplayCommandOptions {
  finalisePending?: boolean;
  /** false with --no-traces. */
  traces?: boolean;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

function say(line: string): void {
  process.stderr.write(`voice-insights-exporter: ${line}\n`);
}

/** Runs the command; resolves to the exit code. */
export async function runReplayCommand(file: string, opts: ReplayCommandOptions, loaded: Config): Promise<number> {
  // --no-traces is OTEL_TRACES_EXPORTER=none for this run.
  const config: Config = opts.traces === false ? { ...loaded, traces: undefined } : loaded;
  let text: string;
  try {
    // Before anything is moved or opened: only one process may use an embedded store's DATA_DIR.
    if (config.store.kind === 'embedded') {
      SqlitePersistence.open({ dir: config.dataDir, sync: config.storeSync, busyTimeoutMs: 1000 }).close();
    }
    const moved = await moveAsideIfDeadLetter(file, config.dataDir, new Date());
    if (moved !== undefined) {
      say(
        `${moved.from} is this DATA_DIR's dead-letter file: moved it to ${moved.to} and replaying it from there; events that fail again go to a new ${DEAD_LETTER_FILE}`,
      );
    }
    text = await readReplayFile(moved?.to ?? file);
  } catch (err) {
    say(
      err instanceof ReplayFileError
        ? err.message
        : `cannot replay: ${err instanceof Error ? err.message : String(err)}`,
    );
    return EXIT_REPLAY_UNUSABLE;
  }

  const logger = createLogger(config.logLevel);
  const app = await createApp(config, { clock: systemClock, logger });
  const unusable = app.readiness.reason('data_dir');
  if (unusable !== undefined) {
    await app.stop();
    say(`cannot replay: ${unusable}`);
    return EXIT_REPLAY_UNUSABLE;
  }
  const before = app.traces.stats();
  const report = await replayText(text, app.ingest, () => systemClock.now());
  const pendingCalls = await app.calls.pendingCount();
  // Calls still waiting for their complete summary stay in the store for the next start, unless asked.
  const finalised = opts.finalisePending === true ? await app.calls.sweep(Number.NEGATIVE_INFINITY) : 0;
  const outcome = await app.traces.drainOrFail();
  // Whatever is left waits in the outbox: no second attempt at shutdown.
  await app.traces.stop();
  const after = app.traces.stats();
  await app.telemetry.flush();
  await app.stop();
  process.stdout.write(`${JSON.stringify({ ...report, pendingCalls, finalised })}\n`);

  const dropped = after.dropped - before.dropped;
  const droppedNote =
    dropped > 0
      ? `${spans(dropped)} dropped: refused outright by the backend, or older than TRACE_EXPORT_GIVE_UP_SECONDS (see the log and spans_dropped_total)`
      : undefined;
  if (config.traces === undefined) {
    const why = opts.traces === false ? '--no-traces' : 'OTEL_TRACES_EXPORTER=none';
    if (outcome.state === 'elsewhere') {
      say(
        `traces are off (${why}): ${spans(outcome.waitingSpans)} wait in the shared outbox for the replicas that export traces`,
      );
    } else {
      const discarded = after.discarded - before.discarded;
      if (discarded > 0) say(`traces are off (${why}): ${spans(discarded)} discarded from the outbox, none exported`);
    }
    return 0;
  }
  const endpoint = config.otlpTargets.traces.endpoint;
  switch (outcome.state) {
    case 'elsewhere':
      say(
        `${spans(outcome.waitingSpans)} wait in the shared outbox: the replica holding the span-shipper lease exports them to its OTLP endpoint`,
      );
      break;
    case 'failing':
      say(
        [
          `${spans(outcome.waitingSpans)} not exported: ${endpoint} ${cause(outcome.failure, config.otlpTargets.traces.timeoutMs)}.`,
          whereSpansWait(config),
          ...(droppedNote === undefined ? [] : [`${droppedNote}.`]),
          `Set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) to your collector; without a trace backend, replay with --no-traces (or OTEL_TRACES_EXPORTER=none): everything but traces is recorded${config.store.kind === 'redis' ? '' : ', and spans waiting in the outbox are discarded'}.`,
        ].join('\n  '),
      );
      return EXIT_TRACES_NOT_EXPORTED;
    case 'drained':
      break;
  }
  if (droppedNote !== undefined) {
    say(`not every span was exported to ${endpoint}: ${droppedNote}`);
    return EXIT_TRACES_NOT_EXPORTED;
  }
  return 0;
}

/** "1 span", "2 spans". */
function spans(n: number): string {
  return `${n} span${n === 1 ? '' : 's'}`;
}

/** "unreachable (connect ECONNREFUSED 127.0.0.1:4318)", "answered HTTP 401 (...)", ... */
function cause(failure: ExportFailure, timeoutMs: number): string {
  if (typeof failure.code === 'string' && NETWORK_CODES.has(failure.code)) return `unreachable (${failure.message})`;
  if (typeof failure.code === 'number') return `answered HTTP ${failure.code} (${failure.message})`;
  if (/timed out/i.test(failure.message)) {
    return `did not answer within ${timeoutMs} ms (OTEL_EXPORTER_OTLP_TIMEOUT, the exporter's retries included)`;
  }
  return `failing (${failure.message})`;
}

/** Truthfully, per store: where unexported spans are now and who exports them. */
function whereSpansWait(config: Config): string {
  const giveUp = config.traces === undefined ? 0 : Math.round(config.traces.giveUpAfterMs / 1000);
  switch (config.store.kind) {
    case 'embedded':
      return (
        `The events were recorded in the store (dedup, call state); the spans wait in its span outbox in ${resolve(join(config.dataDir, STATE_FILE))}: the next \`serve\` (or \`replay\`) on this DATA_DIR with traces on exports them once the endpoint answers ` +
        `(giving them up TRACE_EXPORT_GIVE_UP_SECONDS=${giveUp} s after they were written if it keeps failing); one with traces off discards them.`
      );
    case 'redis':
      return `The events were recorded in the store (dedup, call state); the spans wait in the shared span outbox (${maskStoreUrl(config.store.url)}, prefix ${config.store.keyPrefix}): a \`serve\` replica with traces on exports them once the endpoint answers (giving them up after TRACE_EXPORT_GIVE_UP_SECONDS=${giveUp} s).`;
    case 'memory':
      return 'STORE_URL=memory: the spans, like the call state, were in process memory and are lost now that replay exits.';
  }
}
