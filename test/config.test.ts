import { test } from '@jest/globals';
import assert from './support/assert.js';
import { adviseConfig, describeConfig, loadConfig, type Config } from '../src/config.js';

test('defaults need no variables at all', () => {
  const r = loadConfig({});
  assert.ok(r.ok);
  assert.equal(r.config.port, 8080);
  assert.equal(r.config.metricsPort, 9464);
  assert.equal(r.config.webhookPath, '/events');
  assert.equal(r.config.dataDir, './data');
  assert.equal(r.config.maxBodyBytes, 1024 * 1024);
  assert.deepEqual(r.config.authTokens, []);
  assert.equal(r.config.insecureAcceptUnsigned, false);
  assert.ok(r.config.dedupTtlSeconds >= 5 * 3600);
});

test('every problem is reported at once, naming variables but never values', () => {
  const secret = 'sekrit-value-123';
  const r = loadConfig({
    PORT: 'eighty',
    METRICS_PORT: '70000',
    PUBLIC_URL: secret,
    TRUST_PROXY: 'maybe',
    DEDUP_TTL_SECONDS: '60',
  });
  assert.ok(!r.ok);
  const text = r.problems.join('\n');
  for (const name of ['PORT', 'METRICS_PORT', 'PUBLIC_URL', 'TRUST_PROXY', 'DEDUP_TTL_SECONDS']) {
    assert.match(text, new RegExp(`^${name}:`, 'm'), `${name} reported`);
  }
  assert.ok(!text.includes(secret));
  assert.equal(r.problems.length, 5);
});

test('token list, booleans, and basic auth from the sink URL', () => {
  const r = loadConfig({
    TWILIO_AUTH_TOKEN: ' tok1 , tok2,,',
    PUBLIC_URL: 'https://twilio:p%40ss@hooks.example.com/events',
    TRUST_PROXY: 'true',
  });
  assert.ok(r.ok);
  assert.deepEqual(r.config.authTokens, ['tok1', 'tok2']);
  assert.equal(r.config.trustProxy, true);
  assert.deepEqual(r.config.basicAuth, { user: 'twilio', password: 'p@ss' });
  const shown = JSON.stringify(describeConfig(r.config));
  assert.ok(!shown.includes('tok1') && !shown.includes('p@ss') && !shown.includes('p%40ss'));
  assert.match(shown, /2 configured/);
});

test('basic auth variables must come in pairs; the ports must differ', () => {
  const r = loadConfig({ BASIC_AUTH_USER: 'u', PORT: '9000', METRICS_PORT: '9000' });
  assert.ok(!r.ok);
  assert.equal(r.problems.length, 2);
});

test('STORE_URL selects the store; redis:// and rediss:// are shared stores whose password is never shown', () => {
  const embedded = loadConfig({});
  assert.ok(embedded.ok);
  assert.deepEqual(embedded.config.store, { kind: 'embedded' });
  const memory = loadConfig({ STORE_URL: 'memory:' });
  assert.ok(memory.ok);
  assert.deepEqual(memory.config.store, { kind: 'memory' });
  for (const url of ['redis://:s3cr3t-pw@redis.internal:6380/2', 'rediss://app:s3cr3t-pw@redis.internal:6380']) {
    const r = loadConfig({ STORE_URL: url, STORE_KEY_PREFIX: 'prod-a:' });
    assert.ok(r.ok, url);
    assert.deepEqual(r.config.store, { kind: 'redis', url, keyPrefix: 'prod-a:' });
    const shown = JSON.stringify(describeConfig(r.config));
    assert.ok(!shown.includes('s3cr3t-pw'), shown);
    assert.match(shown, /redis\.internal:6380/);
    assert.match(shown, /prod-a:/);
  }
  const defaults = loadConfig({ STORE_URL: 'redis://localhost' });
  assert.ok(defaults.ok);
  assert.deepEqual(defaults.config.store, { kind: 'redis', url: 'redis://localhost', keyPrefix: 'vie:' });
});

test('a bad STORE_URL or STORE_KEY_PREFIX is a problem that never echoes the URL', () => {
  for (const url of ['redis://:pw-in-url@', 'redis://:pw-in-url@host/not-a-db', 'mysql://u:pw-in-url@host/db']) {
    const r = loadConfig({ STORE_URL: url });
    assert.ok(!r.ok, url);
    assert.match(r.problems.join('\n'), /^STORE_URL:/m);
    assert.ok(!r.problems.join('\n').includes('pw-in-url'));
  }
  const prefix = loadConfig({ STORE_URL: 'redis://localhost', STORE_KEY_PREFIX: 'has space' });
  assert.ok(!prefix.ok);
  assert.match(prefix.problems.join('\n'), /^STORE_KEY_PREFIX:/m);
});

function load(env: Record<string, string>): Config {
  const r = loadConfig(env);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

test('advice: no token is a problem (503 for every delivery) unless unsigned requests are accepted, which is a warning; no PUBLIC_URL a warning', () => {
  const none = adviseConfig(load({}));
  assert.equal(none.problems.length, 1);
  assert.match(none.problems[0] ?? '', /^TWILIO_AUTH_TOKEN is not set: every delivery will be answered 503/);
  assert.ok(none.warnings.some((w) => w.startsWith('PUBLIC_URL is not set')));
  const insecure = adviseConfig(load({ INSECURE_ACCEPT_UNSIGNED: 'true' }));
  assert.deepEqual(insecure.problems, []);
  assert.equal(insecure.warnings.length, 1);
  assert.match(insecure.warnings[0] ?? '', /^INSECURE_ACCEPT_UNSIGNED=true: the webhook accepts UNSIGNED requests/);
  assert.deepEqual(adviseConfig(load({ TWILIO_AUTH_TOKEN: 't', PUBLIC_URL: 'https://hooks.example.com/events' })), {
    problems: [],
    warnings: [],
  });
  assert.match(
    adviseConfig(load({ TWILIO_AUTH_TOKEN: 't', STORE_URL: 'memory:' })).warnings.join('\n'),
    /STORE_URL=memory/,
  );
});

test('the OTLP destinations are resolved as the exporters resolve them, and shown without secrets', () => {
  const defaults = load({});
  assert.deepEqual(defaults.otlpTargets.traces, {
    endpoint: 'http://localhost:4318/v1/traces',
    headerNames: [],
    timeoutMs: 10_000,
    compression: 'none',
  });
  const shown = describeConfig(defaults);
  assert.equal(shown['traces'], 'otlp http/protobuf');
  assert.equal(shown['tracesEndpoint'], 'http://localhost:4318/v1/traces');
  assert.equal(shown['traceQueueMaxSpans'], 20_000);
  assert.equal(shown['traceExportGiveUpSeconds'], 14_400);
  assert.equal(shown['otlpMetrics'], 'off');
  assert.equal(shown['otlpMetricsEndpoint'], undefined, 'only shown when metrics are pushed');

  const c = load({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base/',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com:443/otlp?api_key=k-123',
    OTEL_EXPORTER_OTLP_HEADERS: 'a=1, b = 2',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3,x-key=s3cr3t,broken',
    OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'soon',
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip',
    OTEL_METRICS_EXPORTER: 'otlp',
  });
  assert.deepEqual(c.otlpTargets.traces, {
    endpoint: 'https://traces.example.com/otlp?api_key=***',
    headerNames: ['a', 'b', 'x-key'],
    timeoutMs: 2500,
    compression: 'gzip',
  });
  assert.deepEqual(c.otlpTargets.metrics, {
    endpoint: 'http://collector:4318/base/v1/metrics',
    headerNames: ['a', 'b'],
    timeoutMs: 2500,
    compression: 'none',
  });
  const text = JSON.stringify(describeConfig(c));
  assert.ok(!text.includes('k-123') && !text.includes('s3cr3t'), text);
  assert.match(text, /"tracesHeaders":"a=\*\*\*, b=\*\*\*, x-key=\*\*\*"/);

  const off = describeConfig(load({ OTEL_TRACES_EXPORTER: 'none' }));
  assert.equal(off['traces'], 'off (OTEL_TRACES_EXPORTER=none)');
  assert.equal(off['tracesEndpoint'], undefined);
});

test('an OTLP endpoint that is not an absolute http(s) URL is a problem (the exporter would quietly use localhost), never echoed', () => {
  const r = loadConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'collector-pw:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'nope',
  });
  assert.ok(!r.ok);
  assert.deepEqual(
    r.problems.map((p) => p.split(':')[0]),
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
  );
  assert.ok(!r.problems.join('\n').includes('collector-pw'));
});
