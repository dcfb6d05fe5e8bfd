import { test } from '@jest/globals';
import assert from './support/assert.js';
import { describeConfig, loadConfig } from '../src/config.js';

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
