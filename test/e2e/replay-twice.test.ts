// `replay FILE` run more than once on the same DATA_DIR (DESIGN section 6: dedup ids and per-call state
// live in the embedded store, so a replayed event is a duplicate "with no effect", whichever process sees
// it). The BUILT command line runs as a child process; traces go to a real OTLP/HTTP receiver, and each
// run flushes its traces before it exits, so what the receiver holds after a run is final for it.
//
// The file: JSON lines of Twilio bodies for five complete calls and one call with no complete summary,
// one body recorded twice.
// - run 1: every event accepted once (the repeated body counted as duplicates), five traces, one call left
//   pending in the store;
// - run 2, same file, same DATA_DIR: every event a duplicate, no new span, the call still pending;
// - run 3 with --finalise-pending: still all duplicates; the pending call (kept from run 1) goes out,
//   with every call event it had;
// - run 4 with --finalise-pending: nothing left to finalise, no new span.
import { afterAll, beforeAll, test } from '@jest/globals';
import assert from '../support/assert.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt, MAIN_JS } from '../support/child.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { auditSpans, byTrace, simCall, traceProblems, type CloudEvent } from '../support/call-traffic.js';

const run = promisify(execFile);

let receiver: OtlpReceiver;
let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  receiver = await startOtlpReceiver();
  dir = await mkdtemp(join(tmpdir(), 'replay-twice-'));
});

afterAll(async () => {
  await receiver?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface ReplayReport {
  accepted: number;
  duplicate: number;
  invalid: number;
  unknown_type: number;
  unreadable: number;
  pendingCalls: number;
  finalised: number;
}

async function replay(file: string, ...flags: string[]): Promise<ReplayReport> {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
  };
  const { stdout } = await run(process.execPath, [MAIN_JS, 'replay', ...flags, file], {
    env,
    cwd: dir,
    timeout: 60_000,
  });
  return JSON.parse(stdout) as ReplayReport;
}

test('replaying the same file again on the same DATA_DIR is all duplicates and sends no trace twice', async () => {
  const complete = Array.from({ length: 5 }, (_, i) => simCall(5_501, i));
  const pending = [5, 6, 7, 8, 9].map((i) => simCall(5_501, i)).find((c) => c.callEvents.length > 0);
  assert.ok(pending !== undefined);
  const bodies: CloudEvent[][] = [];
  for (const c of complete) {
    const events = [...c.callEvents, ...c.metrics, ...c.partials];
    for (let i = 0; i < events.length; i += 4) bodies.push(events.slice(i, i + 4));
    bodies.push([c.complete]);
  }
  bodies.push([...pending.callEvents, ...pending.metrics], pending.partials.slice(0, 1));
  const repeated = bodies[1];
  assert.ok(repeated !== undefined);
  bodies.push(repeated); // recorded twice, as a Twilio retry would be
  const file = join(dir, 'recorded.jsonl');
  await writeFile(file, bodies.map((b) => JSON.stringify(b)).join('\n'));
  const total = bodies.reduce((n, b) => n + b.length, 0);
  const unique = total - repeated.length;

  const first = await replay(file);
  assert.deepEqual(first, {
    accepted: unique,
    duplicate: repeated.length,
    invalid: 0,
    unknown_type: 0,
    unreadable: 0,
    pendingCalls: 1,
    finalised: 0,
  });
  const afterFirst = receiver.spans();
  assert.equal(afterFirst.length, complete.length);
  const traces = byTrace(auditSpans(afterFirst).unique);
  const problems = complete.flatMap((c) =>
    traceProblems(
      c,
      traces.get(c.traceId),
      c.callEvents.map((e) => e.id),
      { complete: true },
    ),
  );
  assert.deepEqual(problems, []);

  const second = await replay(file);
  assert.deepEqual(second, {
    accepted: 0,
    duplicate: total,
    invalid: 0,
    unknown_type: 0,
    unreadable: 0,
    pendingCalls: 1,
    finalised: 0,
  });
  assert.equal(receiver.spans().length, complete.length, 'the second run sends no span');

  const third = await replay(file, '--finalise-pending');
  assert.deepEqual(third, {
    accepted: 0,
    duplicate: total,
    invalid: 0,
    unknown_type: 0,
    unreadable: 0,
    pendingCalls: 1,
    finalised: 1,
  });
  const afterThird = receiver.spans();
  assert.equal(afterThird.length, complete.length + 1);
  const pendingTrace = byTrace(auditSpans(afterThird).unique).get(pending.traceId);
  assert.deepEqual(
    traceProblems(
      pending,
      pendingTrace,
      pending.callEvents.map((e) => e.id),
      { complete: false },
    ),
    [],
  );
  const root = pendingTrace?.roots[0];
  // The best summary it had: a partial (or predicted-complete) one.
  assert.equal(root?.attributes['twilio.summary.state'], pending.partials[0]?.type.split('.').pop());
  assert.equal(root?.attributes['twilio.finalised_by'], 'idle');

  const fourth = await replay(file, '--finalise-pending');
  assert.equal(fourth.finalised, 0);
  assert.equal(fourth.pendingCalls, 0);
  assert.equal(fourth.accepted, 0);
  assert.equal(receiver.spans().length, complete.length + 1, 'a finalised call is not finalised again');
}, 120_000);
