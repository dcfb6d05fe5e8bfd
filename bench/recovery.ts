// Memory and recovery with N calls in flight (in-flight-calls.ts: 10 call events, 3 metric samples and
// a partial summary each). The DATA_DIR is written through the built store (in-flight-state.ts), then:
// the exporter starts on it (spawn to /readyz 200), its RSS is read, it gets a few seconds of new call
// events for the calls it holds (RSS peak under load), the store's size on disk is taken (state.sqlite
// plus its -wal), it is SIGKILLed, and the time from the next spawn to /readyz 200 is the recovery time.
// The calls_in_flight gauge after the restart shows every call survived.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startExporter, tempDir, removeTempDir } from './children.js';
import { LoadClient } from './client.js';
import { loadDist } from './dist.js';
import { callsInFlight } from './http-get.js';
import { EVENTS_PER_CALL } from './in-flight-calls.js';
import { buildInFlightState } from './in-flight-state.js';
import { rssBytes, Usage } from './proc.js';
import { MiB, quantile } from './stats.js';
import { signBody, type SignedBody, type Signer } from './traffic.js';

export interface RecoveryResult {
  calls: number;
  eventsPerCall: number;
  /** Seconds to write the DATA_DIR (templates through the pipeline, clones through the store). */
  buildSeconds: number;
  /** Calls whose written rows were checked against a real ingest of their events. */
  verifiedCalls: number;
  /** Spawn to /readyz 200 on the DATA_DIR as written (closed cleanly). */
  firstReadyMs: number;
  rssAtReadyMiB: number;
  /** New call events for held calls, 50 per request, each for a different call. */
  loadEventsPerS: number;
  loadP99Us: number;
  loadNon2xx: number;
  peakRssUnderLoadMiB: number;
  /** state.sqlite + state.sqlite-wal while the exporter runs, after the load. */
  storeBytes: number;
  storeMaxBytes: number;
  /** Spawn to /readyz 200 after SIGKILL. */
  readyAfterKillMs: number;
  rssAfterRestartMiB: number;
  /** calls_in_flight after the restart (should equal `calls` plus none lost). */
  callsInFlightAfterRestart: number;
  /** For comparison: spawn to ready with an empty DATA_DIR, embedded and memory: (from the start of the run). */
  emptyEmbeddedReadyMs: number;
  emptyMemoryReadyMs: number;
  readyAfterKillRatioToEmpty: number;
  /** RSS of the embedded exporter at ready with an empty DATA_DIR (from the start of the run). */
  emptyRssMiB: number;
  /** The highest RSS holding the calls over emptyRssMiB. */
  rssRatioToEmpty: number;
}

function fileSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

export async function runRecovery(opts: {
  signer: Signer;
  sinkPort: number;
  calls: number;
  loadSeconds: number;
  startup: { embeddedReadyMs: number; memoryReadyMs: number; embeddedRssMiB: number };
  log: (line: string) => void;
}): Promise<RecoveryResult> {
  const dir = tempDir('vie-bench-recovery-');
  try {
    const dist = await loadDist();
    const state = await buildInFlightState(dist, {
      dir,
      calls: opts.calls,
      templates: Math.min(500, opts.calls),
      seed: 4004,
      verify: 20,
    });
    opts.log(
      `  DATA_DIR written in ${state.buildSeconds.toFixed(1)} s (${state.calls} calls, ${state.events} events; ` +
        `${state.verified} calls checked against a real ingest)`,
    );
    const base = { store: 'embedded' as const, dataDir: dir, ...opts.signer, sinkPort: opts.sinkPort };
    const first = await startExporter({ ...base, readyTimeoutMs: 120_000 });
    const rssAtReady = rssBytes(first.pid);

    // New call events for the held calls: each body 50 events for 50 different calls, spread over all.
    const bodies: SignedBody[] = [];
    const stride = 7919; // prime, so the walk visits every call before repeating
    const bodiesWanted = Math.ceil(opts.loadSeconds * 200);
    for (let b = 0, k = 0; b < bodiesWanted; b++) {
      const events = [];
      for (let e = 0; e < 50; e++, k++)
        events.push(state.nextEvent((k * stride) % state.calls, Math.floor(k / state.calls)));
      bodies.push(signBody(opts.signer, events));
    }
    const client = new LoadClient(first.port, 8);
    const usage = new Usage(first.pid);
    let next = 0;
    const load = await client.closedLoop({
      concurrency: 8,
      durationMs: opts.loadSeconds * 1000,
      next: () => bodies[next++],
    });
    const used = usage.end();
    client.close();
    const storeBytes = fileSize(join(dir, dist.STATE_FILE)) + fileSize(join(dir, `${dist.STATE_FILE}-wal`));
    opts.log(
      `  first start ready in ${Math.round(first.readyMs)} ms; ${Math.round(load.events / load.seconds)} events/s ` +
        `on held calls; store ${(storeBytes / MiB).toFixed(0)} MiB`,
    );

    await first.kill();
    const second = await startExporter({ ...base, readyTimeoutMs: 120_000 });
    const rssAfterRestart = rssBytes(second.pid);
    const inFlight = await callsInFlight(second.metricsPort);
    await second.kill();
    opts.log(`  after SIGKILL: ready in ${Math.round(second.readyMs)} ms, ${inFlight} calls in flight`);

    const defaults = loadConfig({});
    const sorted = load.latenciesUs.slice().sort();
    return {
      calls: state.calls,
      eventsPerCall: EVENTS_PER_CALL,
      buildSeconds: state.buildSeconds,
      verifiedCalls: state.verified,
      firstReadyMs: first.readyMs,
      rssAtReadyMiB: rssAtReady / MiB,
      loadEventsPerS: load.events / load.seconds,
      loadP99Us: quantile(sorted, 0.99),
      loadNon2xx: load.non2xx,
      peakRssUnderLoadMiB: used.peakRssBytes / MiB,
      storeBytes,
      storeMaxBytes: defaults.ok ? defaults.config.storeMaxBytes : Number.NaN,
      readyAfterKillMs: second.readyMs,
      rssAfterRestartMiB: rssAfterRestart / MiB,
      callsInFlightAfterRestart: inFlight,
      emptyEmbeddedReadyMs: opts.startup.embeddedReadyMs,
      emptyMemoryReadyMs: opts.startup.memoryReadyMs,
      readyAfterKillRatioToEmpty: second.readyMs / opts.startup.embeddedReadyMs,
      emptyRssMiB: opts.startup.embeddedRssMiB,
      rssRatioToEmpty:
        Math.max(rssAtReady / MiB, used.peakRssBytes / MiB, rssAfterRestart / MiB) / opts.startup.embeddedRssMiB,
    };
  } finally {
    removeTempDir(dir);
  }
}
