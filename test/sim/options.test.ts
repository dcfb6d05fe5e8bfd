// `simulate` options: what is signed by default. The README starts the exporter with
// PUBLIC_URL=http://localhost:8080/events and then runs the simulator in another shell, where neither
// PUBLIC_URL nor PORT is set: the default target, which is also what gets signed, must be that URL.
import { test } from '@jest/globals';
import assert from '../support/assert.js';
import { parseSimulateOptions } from '../../src/sim/options.js';
import { signatureAdvice } from '../../src/sim/report.js';

test('without --target, --public-url and PUBLIC_URL the simulator posts to and signs http://localhost:${PORT:-8080}${WEBHOOK_PATH:-/events}', () => {
  const bare = parseSimulateOptions({ duration: '1', token: 't' }, {});
  assert.ok(bare.ok);
  assert.equal(bare.options.target, 'http://localhost:8080/events');
  assert.equal(bare.options.publicUrl, 'http://localhost:8080/events');
  assert.equal(bare.publicUrlFrom, '--target');
  const port = parseSimulateOptions({ duration: '1', token: 't' }, { PORT: '18080', WEBHOOK_PATH: '/twilio' });
  assert.ok(port.ok);
  assert.equal(port.options.publicUrl, 'http://localhost:18080/twilio');
});

test('PUBLIC_URL from the environment is signed when --public-url is not given; --public-url wins', () => {
  const env = { PUBLIC_URL: 'https://hooks.example.com/events' };
  const fromEnv = parseSimulateOptions({ duration: '1', token: 't', target: 'http://127.0.0.1:9/events' }, env);
  assert.ok(fromEnv.ok);
  assert.equal(fromEnv.options.target, 'http://127.0.0.1:9/events');
  assert.equal(fromEnv.options.publicUrl, 'https://hooks.example.com/events');
  assert.equal(fromEnv.publicUrlFrom, 'PUBLIC_URL');
  const flag = parseSimulateOptions({ duration: '1', token: 't', publicUrl: 'http://localhost:8080/events' }, env);
  assert.ok(flag.ok);
  assert.equal(flag.options.publicUrl, 'http://localhost:8080/events');
  assert.equal(flag.publicUrlFrom, '--public-url');
});

test('signature advice appears when more than half of the answered deliveries are 403, naming the signed URL (masked) and the token', () => {
  const report = (byStatus: Record<string, number>) => ({ http: { byStatus } });
  assert.equal(signatureAdvice(report({ '200': 10, '403': 10 }), 'http://x/events', '--target'), undefined);
  assert.ok(signatureAdvice(report({ '403': 1, timeout: 5, error: 5 }), 'http://x/events', '--target') !== undefined);
  assert.equal(signatureAdvice(report({ timeout: 5 }), 'http://x/events', '--target'), undefined);
  const advice = signatureAdvice(
    report({ '200': 1, '403': 2 }),
    'https://user:pw@hooks.example.com/events',
    'PUBLIC_URL',
  );
  assert.ok(advice);
  assert.match(advice, /^simulate: 2 of 3 answered deliveries \(67 %\) were refused with 403/);
  assert.match(
    advice,
    /signed https:\/\/\*\*\*@hooks\.example\.com\/events \(PUBLIC_URL from the environment or \.env\)/,
  );
  assert.match(advice, /--public-url/);
  assert.match(advice, /--token/);
  assert.ok(!advice.includes('pw@'));
});
