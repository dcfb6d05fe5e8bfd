// The shared store going away (DESIGN section 6: "with ... the store unreachable, the webhook answers
// 503 with Retry-After and /readyz is unready with the reason; it recovers by itself").
//
// Two BUILT exporter replicas on one password-protected redis-server, signed deliveries of realistic
// calls sent by a Twilio-like sender (anything not answered 2xx is sent again, round-robin):
// 1. Redis too slow (DEBUG SLEEP 3): requests are answered 503 with Retry-After within the command
//    timeout, not held open; when the server answers again the replicas are ready by themselves.
// 2. Redis killed (SIGKILL) for a few seconds: every delivery is answered 503 with Retry-After, both
//    replicas' /readyz are 503 naming the Redis store (host and port, never the password) and their
//    ready gauge is 0; started again on the same port and append-only file, both recover by
//    themselves, the deliveries refused meanwhile get in, and nothing acknowledged before the kill is
//    lost: every call event is in its call's trace exactly once, one root span per call.
// 3. A replica started while Redis is down starts all the same (listening, unready naming the store)
//    and becomes ready by itself once Redis is back.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import assert from '../support/assert.js';
import { ensureBuilt, waitFor } from '../support/child.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { RedisServer } from '../support/redis-server.js';
import { RestartableExporter, sendSigned, signForPublicUrl, sleep, type Answer } from '../support/restartable.js';
import { auditSpans, body, byTrace, simCall, traceProblems, type CloudEvent } from '../support/call-traffic.js';

const TOKEN = 'redis-outage-token-3e8b1c';
const PASSWORD = 'outage-pw-never-shown-91c2';
const SEED = 20_261_201;
const CALLS = 8;

let redis: RedisServer;
let receiver: OtlpReceiver;
const replicas: RestartableExporter[] = [];

beforeAll(async () => {
  await ensureBuilt();
  [redis, receiver] = await Promise.all([RedisServer.start({ password: PASSWORD }), startOtlpReceiver()]);
  for (let i = 0; i < 2; i++) {
    replicas.push(
      await RestartableExporter.create({
        env: {
          TWILIO_AUTH_TOKEN: TOKEN,
          LOG_LEVEL: 'error',
          STORE_URL: redis.url,
          STORE_KEY_PREFIX: `outage-${process.pid}:`,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
          TRACE_EXPORT_RETRY_INITIAL_MS: '200',
        },
      }),
    );
  }
  await Promise.all(replicas.map((r) => r.startReady(30_000)));
  latecomer = await RestartableExporter.create({
    env: {
      TWILIO_AUTH_TOKEN: TOKEN,
      LOG_LEVEL: 'error',
      STORE_URL: redis.url,
      STORE_KEY_PREFIX: `outage-${process.pid}:`,
      OTEL_TRACES_EXPORTER: 'none',
    },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([...replicas, latecomer].map((r) => r?.dispose()));
  await receiver?.close();
  await redis?.dispose();
});

/** Started while Redis is down (phase 3). */
let latecomer: RestartableExporter;

let rr = 0;
const next = (): RestartableExporter => {
  const r = replicas[rr++ % replicas.length];
  assert.ok(r !== undefined);
  return r;
};

/** A 503 as Twilio must see it while the store is away: Retry-After, and never a 4xx. */
function expectStoreUnavailable(answer: Answer): void {
  expect(answer.status).toBe(503);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
}

test('Redis slow, then down: 503 with Retry-After and unready naming the store; recovery by itself, nothing acknowledged lost', async () => {
  const started = Date.now();
  const calls = Array.from({ length: CALLS }, (_, i) => simCall(SEED, i));
  const bodies = (c: (typeof calls)[number]): CloudEvent[][] => [
    ...[...c.callEvents, ...c.metrics].map((e) => [e]),
    ...c.partials.map((p) => [p]),
  ];
  const acked = new Set<string>();
  const answered4xx: string[] = [];
  let refused = 0;

  /** Twilio: sends until 2xx, to the next replica each time, a little later. */
  const deliver = async (events: CloudEvent[]): Promise<void> => {
    const request = signForPublicUrl(TOKEN, body(events));
    for (;;) {
      if (Date.now() - started > 80_000) throw new Error('a delivery still failed at the deadline');
      try {
        const answer = await sendSigned(next().origin, request, 10_000);
        if (answer.status >= 200 && answer.status < 300) break;
        if (answer.status >= 400 && answer.status < 500) {
          answered4xx.push(`${answer.status} ${answer.text}`);
          return;
        }
        refused++;
      } catch {
        refused++;
      }
      await sleep(100);
    }
    for (const e of events) acked.add(e.id);
  };

  // Before: the first half of every call's events, acknowledged.
  const first = calls.flatMap((c) => bodies(c).slice(0, Math.ceil(bodies(c).length / 2)));
  const rest = calls.flatMap((c) => bodies(c).slice(Math.ceil(bodies(c).length / 2)));
  for (const b of first) await deliver(b);

  // 1. Slow: the server sleeps 3 s; a request is answered 503 within the command timeout, not held.
  const slow = redis.sleep(3);
  await sleep(100);
  const slowStarted = Date.now();
  const slowAnswer = await sendSigned(next().origin, signForPublicUrl(TOKEN, body(rest[0] ?? [])), 10_000);
  const slowMs = Date.now() - slowStarted;
  expectStoreUnavailable(slowAnswer);
  expect(slowMs).toBeLessThan(2_900);
  await slow;
  await Promise.all(replicas.map((r) => r.waitUntil('ready', 10_000)));

  // 2. Down: killed; deliveries keep coming (and keep being refused) until it is back.
  await redis.stop('SIGKILL');
  const downAt = Date.now();
  const answers: Answer[] = [];
  for (const r of replicas)
    answers.push(await sendSigned(r.origin, signForPublicUrl(TOKEN, body(rest[0] ?? [])), 10_000));
  for (const a of answers) expectStoreUnavailable(a);
  await Promise.all(
    replicas.map((r) =>
      waitFor('/readyz to be unready naming the store', async () => (await r.readyz()).status === 503, {
        timeoutMs: 5_000,
        intervalMs: 50,
      }),
    ),
  );
  const readyz = await Promise.all(replicas.map((r) => r.readyz()));
  for (const { body: b } of readyz) {
    const reasons = (b.reasons ?? []).join('; ');
    expect(reasons).toMatch(new RegExp(`Redis store redis://127\\.0\\.0\\.1:${redis.port}/0 unavailable`));
    expect(reasons).not.toContain(PASSWORD);
  }
  const readyGauges = await Promise.all(replicas.map((r) => r.metric('voice_insights_exporter_ready')));
  assert.deepEqual(readyGauges, [0, 0]);
  const logs = replicas.map((r) => r.logs()).join('\n');
  expect(logs).not.toContain(PASSWORD);

  // 3. A replica started now starts all the same: listening, unready, naming the store.
  latecomer.start();
  await latecomer.waitUntil('listening', 20_000);
  await waitFor('the latecomer to be past start-up and unready for the store', async () => {
    const reasons = (await latecomer.readyz()).body.reasons ?? [];
    return reasons.some((r) => r.includes('Redis store')) && !reasons.some((r) => r.includes('starting'));
  });
  expect((await latecomer.readyz()).status).toBe(503);

  // The rest of the traffic (and the complete summaries) is sent while the server is down...
  const sending = Promise.all([
    (async () => {
      for (const b of rest) await deliver(b);
      for (const c of calls) await deliver([c.complete]);
    })(),
  ]);
  // Down for at least 4 s in all, and at least 2 s of refused deliveries.
  await sleep(Math.max(2_000, 4_000 - (Date.now() - downAt)));
  const refusedWhileDown = refused;
  expect(refusedWhileDown).toBeGreaterThan(0);
  // ...and gets in once the server is back: the replicas recover by themselves.
  await redis.startAgain();
  const upAt = Date.now();
  await Promise.all([...replicas, latecomer].map((r) => r.waitUntil('ready', 15_000)));
  const recoveredMs = Date.now() - upAt;
  await sending;
  assert.deepEqual(answered4xx, [], 'never a 4xx (Twilio would drop the events)');

  const expected = calls.flatMap((c) => [...c.callEvents, ...c.metrics, ...c.partials, c.complete]);
  assert.deepEqual(
    expected.filter((e) => !acked.has(e.id)).map((e) => e.id),
    [],
  );
  await waitFor(
    'every call to have its root span',
    () => {
      const roots = new Set(
        receiver
          .spans()
          .filter((s) => s.parentSpanId === undefined)
          .map((s) => s.traceId),
      );
      return calls.every((c) => roots.has(c.traceId));
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  const traces = byTrace(auditSpans(receiver.spans()).unique);
  const problems = calls.flatMap((c) =>
    traceProblems(
      c,
      traces.get(c.traceId),
      c.callEvents.map((e) => e.id),
      { complete: true },
    ),
  );
  console.info(
    `redis outage figures: ${JSON.stringify({
      calls: CALLS,
      cloudEventsAcknowledged: acked.size,
      slowAnswerMs: slowMs,
      refusedWhileDown,
      refusedInAll: refused,
      recoveredMs,
      durationSeconds: (Date.now() - started) / 1000,
    })}`,
  );
  assert.deepEqual(problems, [], 'each call: one root span, each call event exactly once');
  assert.deepEqual(
    [...replicas, latecomer].flatMap((r) => r.unexpectedExits),
    [],
  );
}, 90_000);
