// STORE_URL=rediss://… : the shared store over TLS, as an operator runs it. A redis-server that only
// speaks TLS (self-signed certificate for 127.0.0.1, password required), and the BUILT exporter trusting
// that certificate through NODE_EXTRA_CA_CERTS (Node's own way to add a private CA). It becomes ready,
// acknowledges a signed delivery, and its state is in Redis: a second replica answers the same events
// as duplicates. Without the certificate trusted, it stays unready naming the store (the connection is
// verified, never silently accepted).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import assert from '../support/assert.js';
import { ensureBuilt, waitFor } from '../support/child.js';
import { RedisServer } from '../support/redis-server.js';
import { RestartableExporter, sendSigned, signForPublicUrl } from '../support/restartable.js';
import { body, simCall } from '../support/call-traffic.js';

const TOKEN = 'redis-tls-token-0a7c44';
const PASSWORD = 'tls-pw-b81f';

let redis: RedisServer;
const exporters: RestartableExporter[] = [];

beforeAll(async () => {
  await ensureBuilt();
  redis = await RedisServer.start({ tls: true, password: PASSWORD });
}, 60_000);

afterAll(async () => {
  await Promise.all(exporters.map((e) => e.dispose()));
  await redis?.dispose();
});

async function exporter(extra: Record<string, string>): Promise<RestartableExporter> {
  const e = await RestartableExporter.create({
    env: {
      TWILIO_AUTH_TOKEN: TOKEN,
      LOG_LEVEL: 'error',
      STORE_URL: redis.url,
      STORE_KEY_PREFIX: `tls-${process.pid}:`,
      OTEL_TRACES_EXPORTER: 'none',
      ...extra,
    },
  });
  exporters.push(e);
  return e;
}

test('rediss:// with the server certificate trusted: ready, acknowledges, state shared; untrusted: unready', async () => {
  assert.match(redis.url, /^rediss:\/\//);
  const [a, b] = [
    await exporter({ NODE_EXTRA_CA_CERTS: redis.caFile }),
    await exporter({ NODE_EXTRA_CA_CERTS: redis.caFile }),
  ];
  await Promise.all([a.startReady(30_000), b.startReady(30_000)]);
  const call = simCall(20_261_202, 0);
  const events = call.callEvents.slice(0, 3);
  const request = signForPublicUrl(TOKEN, body(events));
  const first = await sendSigned(a.origin, request);
  expect(first.status).toBe(200);
  assert.deepEqual(first.json, { accepted: 3, duplicate: 0, invalid: 0, unknown_type: 0 });
  const again = await sendSigned(b.origin, request);
  expect(again.status).toBe(200);
  assert.deepEqual(again.json, { accepted: 0, duplicate: 3, invalid: 0, unknown_type: 0 });

  const untrusted = await exporter({});
  untrusted.start();
  await untrusted.waitUntil('listening', 20_000);
  await waitFor('the exporter without the CA to be unready naming the store', async () => {
    const reasons = (await untrusted.readyz()).body.reasons ?? [];
    return reasons.some((r) => r.includes(`Redis store rediss://127.0.0.1:${redis.port}/0 unavailable`));
  });
  expect((await untrusted.readyz()).status).toBe(503);
  const refused = await sendSigned(untrusted.origin, signForPublicUrl(TOKEN, body(call.callEvents.slice(3, 4))));
  expect(refused.status).toBe(503);
  expect(untrusted.logs()).not.toContain(PASSWORD);
}, 60_000);
