// The BUILT command line (node dist/main.js) as a child process: check-config's exit codes and what it
// prints (never a secret), a mistyped command (unknown, with a suggestion, not swallowed by the default
// command), `serve` without a token (starts, not ready, 503, tells the operator, exits 0 on SIGTERM), and
// `serve` with a token (accepts a signed fixture, counts it on /metrics, and finishes a request that is
// in flight when SIGTERM arrives).
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { request } from 'node:http';
import { signTwilioRequest } from '../../src/http/signature.js';
import { loadFixtureEvents } from '../support/fixtures.js';
import { sampleValue } from '../support/prom.js';
import {
  ensureBuilt,
  getStatus,
  logLines,
  portAccepts,
  runCli,
  signedPost,
  spawnExporter,
  waitFor,
  type ChildExporter,
  type ExitInfo,
} from '../support/child.js';

const TOKEN = 'cli-token-5d1c9e0f7a3b4c2d';
const BASIC_PASSWORD = 'basic-secret-77e1';
const FIXTURE = 'call-metrics/sdk-edge-one-second-sample.json';
const FIXTURE_TYPE = 'com.twilio.voice.insights.call-metrics.sdk';

/** The fixture's events with ids unique to this test run, as a body. */
function fixtureBody(idSuffix: string): Buffer {
  const events = loadFixtureEvents(FIXTURE).map((e, i) => ({ ...e, id: `EZc11${idSuffix}${i}`.padEnd(34, '0') }));
  return Buffer.from(JSON.stringify(events));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

beforeAll(async () => {
  await ensureBuilt();
});

describe('check-config', () => {
  test('a bad environment exits 2 and names PORT and PUBLIC_URL without printing their values', () => {
    const r = runCli(['check-config'], { PORT: 'abc', PUBLIC_URL: 'not-a-url', TWILIO_AUTH_TOKEN: TOKEN });
    const output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 2, output);
    assert.match(r.stderr, /\bPORT\b/);
    assert.match(r.stderr, /\bPUBLIC_URL\b/);
    for (const secret of ['abc', 'not-a-url', TOKEN])
      assert.ok(!output.includes(secret), `the output prints ${JSON.stringify(secret)}:\n${output}`);
    assert.ok(!r.stdout.includes('configuration OK'));
  });

  test('no TWILIO_AUTH_TOKEN is a problem (every delivery would get 503): exit 2, no "configuration OK"', () => {
    const r = runCli(['check-config'], { PUBLIC_URL: 'https://hooks.example.com/events' });
    assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      /TWILIO_AUTH_TOKEN is not set: every delivery will be answered 503 \(Twilio keeps retrying\) until it is/,
    );
    assert.ok(!r.stdout.includes('configuration OK'), r.stdout);
  });

  test('INSECURE_ACCEPT_UNSIGNED=true without a token passes with a loud warning; no PUBLIC_URL is a warning', () => {
    const insecure = runCli(['check-config'], { INSECURE_ACCEPT_UNSIGNED: 'true' });
    assert.equal(insecure.status, 0, insecure.stderr);
    assert.match(insecure.stderr, /warning: INSECURE_ACCEPT_UNSIGNED=true: the webhook accepts UNSIGNED requests/);
    assert.match(insecure.stdout, /configuration OK \(1 warning on stderr\)/);
    const noPublicUrl = runCli(['check-config'], { TWILIO_AUTH_TOKEN: TOKEN });
    assert.equal(noPublicUrl.status, 0, noPublicUrl.stderr);
    assert.match(noPublicUrl.stderr, /warning: PUBLIC_URL is not set: the signed URL is rebuilt from each request/);
    assert.match(noPublicUrl.stdout, /configuration OK/);
  });

  test('the trace export, outbox and metrics export settings are shown, their secrets masked', () => {
    const r = runCli(['check-config'], {
      TWILIO_AUTH_TOKEN: TOKEN,
      PUBLIC_URL: 'https://hooks.example.com/events',
      STORE_URL: 'redis://:redis-pw-31f@redis.internal:6380/2',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp-user:otlp-pw-8c2@otlp.example.com:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=hc-key-55a,authorization=Bearer%20tok-9d0',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      TRACE_QUEUE_MAX_SPANS: '5000',
      TRACE_EXPORT_GIVE_UP_SECONDS: '600',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '3000',
    });
    const output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, output);
    const shown = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)) as Record<string, unknown>;
    assert.equal(shown['traces'], 'otlp http/json');
    assert.equal(shown['tracesEndpoint'], 'https://***:***@otlp.example.com:4318/v1/traces');
    assert.equal(shown['tracesHeaders'], 'x-honeycomb-team=***, authorization=***');
    assert.equal(shown['tracesTimeoutMs'], 3000);
    assert.equal(shown['traceQueueMaxSpans'], 5000);
    assert.equal(shown['traceExportGiveUpSeconds'], 600);
    assert.equal(shown['traceExportRetryInitialMs'], 1000);
    assert.equal(shown['metricsExporters'], 'prometheus,otlp');
    assert.equal(shown['otlpMetricsEndpoint'], 'https://***:***@otlp.example.com:4318/v1/metrics');
    assert.equal(shown['store'], 'shared redis://:***@redis.internal:6380/2 (key prefix vie:)');
    for (const secret of [TOKEN, 'redis-pw-31f', 'otlp-user', 'otlp-pw-8c2', 'hc-key-55a', 'tok-9d0'])
      assert.ok(!output.includes(secret), `the output prints ${secret}:\n${output}`);
    const off = runCli(['check-config'], { TWILIO_AUTH_TOKEN: TOKEN, OTEL_TRACES_EXPORTER: 'none' });
    assert.match(off.stdout, /"traces": "off \(OTEL_TRACES_EXPORTER=none\)"/);
  });

  test('a good environment exits 0, prints "configuration OK" and no secret', () => {
    const r = runCli(['check-config'], {
      PORT: '8081',
      TWILIO_AUTH_TOKEN: `${TOKEN},second-${TOKEN}`,
      PUBLIC_URL: `https://twilio:${BASIC_PASSWORD}@hooks.example.com/events`,
    });
    const output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, output);
    assert.match(r.stdout, /configuration OK/);
    for (const secret of [TOKEN, BASIC_PASSWORD])
      assert.ok(!output.includes(secret), `the output prints a secret:\n${output}`);
  });
});

describe('a mistyped command', () => {
  for (const [args, name, suggestion] of [
    [['srve'], 'srve', 'serve'],
    [['replya', 'x'], 'replya', 'replay'],
  ] as const) {
    test(`\`${args.join(' ')}\` is an unknown command with a suggestion and the list of commands, exit 2`, () => {
      const r = runCli(args, { TWILIO_AUTH_TOKEN: TOKEN });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^error: unknown command '${name}' \\(Did you mean ${suggestion}\\?\\)`));
      for (const command of ['serve (default)', 'replay', 'check-config', 'simulate'])
        assert.ok(r.stderr.includes(`\n  ${command} `), `lists ${command}:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /too many arguments/);
      assert.equal(r.stdout, '');
    });
  }

  test('with no command at all, serve still runs (the default command)', async () => {
    const child = await spawnExporter({ args: [], env: { LOG_LEVEL: 'warn' }, waitUntil: 'listening' });
    await child.kill();
  });
});

describe('serve without TWILIO_AUTH_TOKEN', () => {
  let child: ChildExporter | undefined;
  const running = (): ChildExporter => {
    if (child === undefined) throw new Error('child not started');
    return child;
  };

  beforeAll(async () => {
    child = await spawnExporter({ env: { LOG_LEVEL: 'info' }, waitUntil: 'listening' });
  });
  afterAll(async () => {
    await child?.kill();
  });

  test('/readyz answers 503 with a reason naming TWILIO_AUTH_TOKEN', async () => {
    const res = await fetch(`${running().origin}/readyz`, { signal: AbortSignal.timeout(5000) });
    const body = parseJson(await res.text());
    assert.equal(res.status, 503);
    assert.ok(
      typeof body === 'object' && body !== null && 'reasons' in body && Array.isArray(body.reasons),
      JSON.stringify(body),
    );
    assert.ok(
      body.reasons.some((r: unknown) => typeof r === 'string' && r.includes('TWILIO_AUTH_TOKEN')),
      `reasons: ${JSON.stringify(body.reasons)}`,
    );
  });

  test('a signed POST answers 503 with Retry-After (Twilio retries)', async () => {
    const res = await signedPost(running().webhookUrl, 'some-token-twilio-would-use', fixtureBody('a'));
    assert.equal(res.status, 503, res.text);
    assert.ok(res.headers.get('retry-after') !== null, 'Retry-After header');
  });

  test('stdout has a warning line naming TWILIO_AUTH_TOKEN', async () => {
    const c = running();
    const warning = () =>
      logLines(c.stdout()).find(
        (l) => l['level'] === 40 && typeof l['msg'] === 'string' && l['msg'].includes('TWILIO_AUTH_TOKEN'),
      );
    await waitFor('a warning log line about TWILIO_AUTH_TOKEN', () => warning() !== undefined, { timeoutMs: 5000 });
  });

  test('SIGTERM makes it exit 0 within a few seconds', async () => {
    const c = running();
    assert.ok(c.proc.kill('SIGTERM'));
    const exit: ExitInfo = await withTimeout(c.exited, 5000, 'exit after SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, c.stdout() + c.stderr());
  });
});

describe('serve with a token', () => {
  let child: ChildExporter | undefined;
  const running = (): ChildExporter => {
    if (child === undefined) throw new Error('child not started');
    return child;
  };

  beforeAll(async () => {
    child = await spawnExporter({ env: { LOG_LEVEL: 'info', TWILIO_AUTH_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await child?.kill();
  });

  test('a signed fixture is accepted and counted on /metrics; the token is never logged', async () => {
    const c = running();
    const res = await signedPost(c.webhookUrl, TOKEN, fixtureBody('b'));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 0 });

    const scrape = await fetch(c.metricsUrl, { signal: AbortSignal.timeout(5000) });
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.equal(
      sampleValue(text, 'voice_insights_exporter_events_total', { type: FIXTURE_TYPE, outcome: 'accepted' }),
      1,
    );
    assert.ok(!c.stdout().includes(TOKEN) && !c.stderr().includes(TOKEN), 'the token appears in the logs');
  });

  // Deterministic ordering: `Expect: 100-continue` makes the server answer "100 Continue" only once it
  // has parsed the headers and handed the request to the app (so it is in flight); SIGTERM is sent then,
  // the body only after the log says shutdown began and the port refuses new connections.
  test('a POST in flight when SIGTERM arrives still completes with 200, then the process exits 0', async () => {
    const c = running();
    const body = fixtureBody('c');
    const signed = signTwilioRequest(TOKEN, c.webhookUrl, body);
    let continued: () => void = () => undefined;
    const gotContinue = new Promise<void>((resolve) => (continued = resolve));
    let sendBody: () => void = () => undefined;
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(signed.url, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          'x-twilio-signature': signed.signature,
          expect: '100-continue',
          connection: 'close',
        },
      });
      req.on('continue', () => continued());
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.flushHeaders();
      sendBody = () => req.end(body);
    });

    await withTimeout(gotContinue, 5000, '100 Continue');
    assert.ok(c.proc.kill('SIGTERM'));
    await waitFor(
      'the "shutting down" log line',
      () => logLines(c.stdout()).some((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('shutting down')),
      { timeoutMs: 5000 },
    );
    await waitFor('the webhook port to refuse new connections', async () => !(await portAccepts(c.port)), {
      timeoutMs: 5000,
    });
    assert.equal(
      await getStatus(`${c.origin}/healthz`, 1000),
      undefined,
      'a new request is refused while shutting down',
    );

    sendBody();
    const res = await withTimeout(answer, 5000, 'the answer to the in-flight POST');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(parseJson(res.text), { accepted: 1, duplicate: 0, invalid: 0, unknown_type: 0 });

    const exit = await withTimeout(c.exited, 5000, 'exit after SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, c.stdout() + c.stderr());
    assert.ok(
      logLines(c.stdout()).some((l) => l['msg'] === 'stopped'),
      'the "stopped" log line',
    );
  });
});
