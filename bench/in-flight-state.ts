// A DATA_DIR holding N calls in flight, exactly as the exporter stores them, in seconds rather than the
// minutes 1.4 M events over HTTP would take:
// 1. A few hundred template calls (in-flight-calls.ts) go through the built exporter's own ingest
//    pipeline (dist/app.js, embedded store in a scratch directory, fixed clock); their stored rows are
//    read back through the built SqlitePersistence.
// 2. Each of the N calls is a template's row with the CallSid and every CloudEvent id replaced by new
//    ones, written with its dedup claims through the built SqlitePersistence, a few thousand calls per
//    transaction.
// 3. Check: for a sample of the N calls, the CloudEvents with the same replacements are ingested by a
//    fresh exporter pipeline and its stored row must equal the written one, byte for byte.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRow } from '../src/store/persistence.js';
import { rngFor, type Rng } from '../src/sim/random.js';
import type { Dist } from './dist.js';
import { inFlightCall } from './in-flight-calls.js';

export interface InFlightStateOptions {
  dir: string;
  calls: number;
  templates: number;
  seed: number;
  /** Calls checked against a real ingest of their events. */
  verify: number;
}

export interface InFlightState {
  calls: number;
  events: number;
  buildSeconds: number;
  verified: number;
  /** A new call event for call i (the n-th one), for load on the held calls. */
  nextEvent(i: number, n: number): Record<string, unknown>;
}

interface Template {
  callSid: string;
  row: CallRow;
  /** Row JSON split at every token: text, token, text, token, ..., text. */
  rowParts: string[];
  eventsParts: string[];
  /** The template's CloudEvent ids. */
  ids: string[];
  /** A call event of the template, to derive later events from. */
  callEvent: string;
}

/**
 * A Twilio-shaped SID (prefix + 32 hex digits) unique by construction: call index and a per-call serial
 * up front, random hex after. (The simulator's sid() draws from a 32-bit seed, so among 100,000 calls a
 * few would collide.)
 */
function uniqueSid(prefix: 'CA' | 'EZ', call: number, serial: number, rng: Rng): string {
  return `${prefix}${call.toString(16).padStart(8, '0')}${serial.toString(16).padStart(4, '0')}${rng.hex(20)}`;
}

/** Splits `text` around every occurrence of any of `tokens`, keeping the tokens at odd positions. */
function splitTokens(text: string, tokens: readonly string[]): string[] {
  return text.split(new RegExp(`(${tokens.join('|')})`, 'g'));
}

function join2(parts: readonly string[], swap: ReadonlyMap<string, string>): string {
  let out = '';
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k] ?? '';
    out += k % 2 === 1 ? (swap.get(part) ?? part) : part;
  }
  return out;
}

/**
 * Runs `events` (one array per call) through the built exporter's pipeline (createApp, embedded store,
 * a clock fixed at `nowMs`) in a scratch DATA_DIR, and returns each call's stored row, read back
 * through the built SqlitePersistence.
 */
async function ingestAndRead(
  dist: Dist,
  nowMs: number,
  calls: readonly { callSid: string; events: readonly unknown[] }[],
): Promise<CallRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vie-bench-pipeline-'));
  try {
    const loaded = dist.loadConfig({
      DATA_DIR: dir,
      TWILIO_AUTH_TOKEN: 'unused',
      OTEL_TRACES_EXPORTER: 'none',
      LOG_LEVEL: 'error',
    });
    if (!loaded.ok) throw new Error(`pipeline config: ${loaded.problems.join('; ')}`);
    const app = await dist.createApp(loaded.config, {
      clock: new dist.ManualClock(nowMs),
      logger: dist.createLogger('error'),
    });
    try {
      // Concurrently, as requests arrive: they share group commits.
      for (let i = 0; i < calls.length; i += 50) {
        await Promise.all(
          calls.slice(i, i + 50).map(async ({ events }) => {
            const report = await app.ingest.ingest(events, nowMs);
            if (report.accepted !== events.length) throw new Error(`ingest: ${JSON.stringify(report)}`);
          }),
        );
      }
    } finally {
      await app.stop();
    }
    const store = dist.SqlitePersistence.open({ dir, sync: 'normal' });
    try {
      return calls.map(({ callSid }) => {
        const row = store.getCall(callSid);
        if (row === undefined) throw new Error(`the pipeline stored nothing for ${callSid}`);
        return row;
      });
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function buildInFlightState(dist: Dist, opts: InFlightStateOptions): Promise<InFlightState> {
  const started = performance.now();
  const nowMs = Date.now();
  const sources = Array.from({ length: opts.templates }, (_, t) => {
    const events = inFlightCall(opts.seed, t, nowMs);
    const callSid = events[0]?.data['call_sid'];
    if (typeof callSid !== 'string') throw new Error(`template call ${t} has no call_sid`);
    return { callSid, events };
  });
  const rows = await ingestAndRead(dist, nowMs, sources);
  const templates: Template[] = sources.map(({ callSid, events }, t) => {
    const row = rows[t];
    if (row === undefined) throw new Error(`no row for template ${t}`);
    const ids = events.map((e) => e.id);
    const tokens = [callSid, ...ids];
    return {
      callSid,
      row,
      rowParts: splitTokens(JSON.stringify(row.record), tokens),
      eventsParts: splitTokens(JSON.stringify(events), tokens),
      ids,
      callEvent: JSON.stringify(events[0]),
    };
  });

  const swapFor = (i: number): { template: Template; swap: Map<string, string>; newSid: string } => {
    const template = templates[i % templates.length];
    if (template === undefined) throw new Error('no templates');
    const rng = rngFor(opts.seed, i, 'bench-clone');
    const newSid = uniqueSid('CA', i, 0, rng);
    const swap = new Map<string, string>([[template.callSid, newSid]]);
    template.ids.forEach((id, k) => swap.set(id, uniqueSid('EZ', i, k + 1, rng)));
    return { template, swap, newSid };
  };

  const loaded = dist.loadConfig({ DATA_DIR: opts.dir });
  if (!loaded.ok) throw new Error(`config: ${loaded.problems.join('; ')}`);
  const expiresAt = nowMs + loaded.config.dedupTtlSeconds * 1000;
  const store = dist.SqlitePersistence.open({ dir: opts.dir, sync: loaded.config.storeSync });
  let events = 0;
  try {
    const CHUNK = 2000;
    for (let from = 0; from < opts.calls; from += CHUNK) {
      const calls = new Map<string, CallRow>();
      const claims: { id: string; expiresAt: number }[] = [];
      for (let i = from; i < Math.min(opts.calls, from + CHUNK); i++) {
        const { template, swap, newSid } = swapFor(i);
        const record = JSON.parse(join2(template.rowParts, swap)) as CallRow['record'];
        calls.set(newSid, { record, lastActivityAt: template.row.lastActivityAt, expiresAt: undefined });
        for (const id of template.ids) claims.push({ id: swap.get(id) ?? id, expiresAt });
        events += template.ids.length;
      }
      // In key order: the same rows, written with less B-tree churn than in random order.
      claims.sort((a, b) => (a.id < b.id ? -1 : 1));
      const sorted = new Map([...calls].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      store.write({ calls: sorted, claims, outboxAdd: [], outboxDelete: [] });
    }
  } finally {
    store.close();
  }

  // The check: a real ingest of a sample of the written calls stores exactly what was written.
  const step = Math.max(1, Math.floor(opts.calls / Math.max(1, opts.verify)));
  const sample = Array.from({ length: Math.min(opts.verify, opts.calls) }, (_, k) => {
    const { template, swap, newSid } = swapFor(k * step);
    return { callSid: newSid, events: JSON.parse(join2(template.eventsParts, swap)) as unknown[], swap };
  });
  const expected = await ingestAndRead(dist, nowMs, sample);
  const written = dist.SqlitePersistence.open({ dir: opts.dir, sync: 'normal' });
  try {
    sample.forEach(({ callSid, swap }, k) => {
      if (JSON.stringify(written.getCall(callSid)) !== JSON.stringify(expected[k]))
        throw new Error(`call ${callSid} as written differs from what the exporter's ingest stores`);
      for (const id of swap.values()) {
        if (id !== callSid && !written.isClaimed(id, nowMs)) throw new Error(`${callSid}: event ${id} not claimed`);
      }
    });
  } finally {
    written.close();
  }
  const verified = sample.length;

  return {
    calls: opts.calls,
    events,
    buildSeconds: (performance.now() - started) / 1000,
    verified,
    nextEvent(i, n) {
      // A later call event of call i: one of its own call events under a new id, n ms later.
      const { template, swap } = swapFor(i);
      const text = template.callEvent.replaceAll(template.callSid, swap.get(template.callSid) ?? template.callSid);
      const event = JSON.parse(text) as { data: Record<string, unknown> };
      const at = Date.parse(String(event.data['timestamp'])) + 1000 + n;
      const id = uniqueSid('EZ', i, 256 + n, rngFor(opts.seed, i, n, 'bench-next'));
      return { ...event, id, data: { ...event.data, timestamp: new Date(at).toISOString() } };
    },
  };
}
