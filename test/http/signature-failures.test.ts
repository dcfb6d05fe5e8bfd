// What a delivery that fails the signature or Basic-auth checks is answered and logged, over real HTTP on
// loopback: one accurate message per reason, in line with the README's troubleshooting advice, and a warn
// line per reason at most once a minute (an injected clock: nothing sleeps) that holds no secret.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { ManualClock } from '../../src/clock.js';
import { maskQueryValues, maskUrlPassword, SignatureFailureLog } from '../../src/http/signature-failures.js';
import { signTwilioRequest } from '../../src/http/signature.js';
import { createLogger } from '../../src/logger.js';
import { startExporter, TEST_TOKEN, type Harness } from '../support/harness.js';
import { sampleValue } from '../support/prom.js';

const BODY = JSON.stringify([{ specversion: '1.0', id: 'EZ00000000000000000000000000000001', type: 'x' }]);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Answer {
  status: number;
  json: { error?: unknown; message?: unknown };
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, json: (await res.json()) as Answer['json'] };
}

/** A POST with a Host header fetch would not send. */
function postWithHost(url: string, host: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Answer['json'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the 401/403 answer names what failed and what to check', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startExporter();
  });
  afterAll(() => h.stop());

  test('body_hash_mismatch: the body was rewritten or cut on the way, not a URL or token problem', async () => {
    const signed = signTwilioRequest(TEST_TOKEN, h.webhookUrl, Buffer.from(BODY));
    const res = await answer(
      await fetch(signed.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twilio-signature': signed.signature },
        body: BODY.replace('"x"', '"y"'),
      }),
    );
    assert.equal(res.status, 403);
    assert.equal(res.json.error, 'body_hash_mismatch');
    const message = String(res.json.message);
    assert.match(message, /do not hash to the bodySHA256 in the signed URL/);
    assert.match(message, /rewrote the body/);
    assert.match(message, /or cut it/);
    assert.match(message, /byte for byte/);
    assert.doesNotMatch(
      message,
      /PUBLIC_URL|TWILIO_AUTH_TOKEN|TRUST_PROXY/,
      'no URL or token advice for a body problem',
    );
  });

  test('bad_signature: the rebuilt URL differs from the signed one (PUBLIC_URL, TRUST_PROXY) or the token is wrong', async () => {
    const res = await h.post(BODY, { token: 'not-the-token' });
    assert.equal(res.status, 403);
    const json = res.json as Answer['json'];
    assert.equal(json.error, 'bad_signature');
    const message = String(json.message);
    assert.match(message, /URL rebuilt here differs from the one Twilio signed/);
    assert.match(message, /PUBLIC_URL/);
    assert.match(message, /TRUST_PROXY/);
    assert.match(message, /TWILIO_AUTH_TOKEN/);
    assert.doesNotMatch(message, /body/);
  });

  test('bad_signature without a usable Host: the URL could not be rebuilt, set PUBLIC_URL', async () => {
    const signed = signTwilioRequest(TEST_TOKEN, h.webhookUrl, Buffer.from(BODY));
    const res = await postWithHost(
      signed.url,
      'user@127.0.0.1',
      { 'content-type': 'application/json', 'x-twilio-signature': signed.signature },
      BODY,
    );
    assert.equal(res.status, 403);
    assert.equal(res.json.error, 'bad_signature');
    assert.match(String(res.json.message), /could not be rebuilt \(no usable Host header\); set PUBLIC_URL/);
  });

  test('missing_body_hash: no bodySHA256 in the URL', async () => {
    const res = await answer(
      await fetch(h.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
        body: BODY,
      }),
    );
    assert.equal(res.status, 403);
    assert.equal(res.json.error, 'missing_body_hash');
    assert.match(String(res.json.message), /no bodySHA256 query parameter/);
    assert.match(String(res.json.message), /dropped the query string/);
  });

  test('missing_signature: 401, not from Twilio or the header was dropped', async () => {
    const res = await h.post(BODY, { token: null });
    assert.equal(res.status, 401);
    const json = res.json as Answer['json'];
    assert.equal(json.error, 'missing_signature');
    assert.match(String(json.message), /X-Twilio-Signature header missing/);
  });
});

test('Basic auth: 401 naming the credentials to compare', async () => {
  const h = await startExporter({ BASIC_AUTH_USER: 'twilio', BASIC_AUTH_PASSWORD: 'pw-1' });
  try {
    const missing = await h.post(BODY);
    assert.equal(missing.status, 401);
    assert.equal((missing.json as Answer['json']).error, 'basic_auth_missing');
    assert.match(
      String((missing.json as Answer['json']).message),
      /must carry user:password@ matching BASIC_AUTH_USER/,
    );
    const wrong = await h.post(BODY, { headers: { authorization: basic('twilio', 'nope') } });
    assert.equal(wrong.status, 401);
    assert.equal((wrong.json as Answer['json']).error, 'basic_auth_wrong');
    assert.match(String((wrong.json as Answer['json']).message), /do not match BASIC_AUTH_USER\/BASIC_AUTH_PASSWORD/);
  } finally {
    await h.stop();
  }
});

describe('failures are logged at warn, rate-limited per reason, without secrets', () => {
  const PASSWORD = 's3cret-pw';
  const PUBLIC_URL = `https://twilio:${PASSWORD}@hooks.example.com/twilio/events`;
  const SHOWN_URL = 'https://twilio:***@hooks.example.com/twilio/events';
  const RIGHT_AUTH = basic('twilio', PASSWORD);
  const clock = new ManualClock();
  const output: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void output.push(line) });
  /** Every X-Twilio-Signature value sent, to prove none of them reaches the log. */
  const signaturesSent: string[] = [];
  let h: Harness;

  const rejections = () =>
    output
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('webhook request rejected'));
  const bodyHash = (body: string) => createHash('sha256').update(body).digest('hex');
  const post = async (body: string, token: string, authorization = RIGHT_AUTH) => {
    signaturesSent.push(signTwilioRequest(token, PUBLIC_URL, Buffer.from(body)).signature);
    return h.post(body, { token, signedFor: PUBLIC_URL, requestPath: '/events', headers: { authorization } });
  };

  beforeAll(async () => {
    h = await startExporter({ PUBLIC_URL }, { clock, logger });
  });
  afterAll(() => h.stop());

  test('a correctly signed delivery logs nothing', async () => {
    assert.equal((await post(BODY, TEST_TOKEN)).status, 200);
    assert.deepEqual(rejections(), []);
  });

  test('bad_signature: the first at once, with the rebuilt URLs (password masked), the address and a hint', async () => {
    assert.equal((await post(BODY, 'not-the-token')).status, 403);
    const lines = rejections();
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.ok(line !== undefined);
    assert.equal(line['level'], 40, 'warn');
    assert.equal(line['reason'], 'bad_signature');
    const signedUrl = `${SHOWN_URL}?bodySHA256=${bodyHash(BODY)}`;
    assert.equal(line['url'], signedUrl, 'the URL rebuilt from PUBLIC_URL, bodySHA256 kept');
    assert.equal(line['urlFrom'], 'PUBLIC_URL');
    const tried = line['urlsTried'];
    assert.ok(Array.isArray(tried));
    assert.ok(tried.includes(signedUrl));
    assert.ok(tried.includes(signedUrl.replace('.com/', '.com:443/')), 'the default-port spelling');
    assert.ok(tried.includes(`https://hooks.example.com/twilio/events?bodySHA256=${bodyHash(BODY)}`), 'no userinfo');
    assert.ok(tried.every((u) => typeof u === 'string' && !u.includes(PASSWORD)));
    assert.match(String(line['remoteAddress']), /127\.0\.0\.1/);
    assert.equal(line['suppressed'], 0);
    assert.match(String(line['hint']), /PUBLIC_URL/);
    assert.match(String(line['hint']), /TRUST_PROXY/);
    assert.match(String(line['hint']), /TWILIO_AUTH_TOKEN/);
  });

  test('then at most one line per 60 s per reason, counting the ones left out', async () => {
    assert.equal((await post(BODY, 'not-the-token')).status, 403);
    assert.equal((await post(BODY, 'not-the-token')).status, 403);
    clock.advance(59_999);
    assert.equal((await post(BODY, 'not-the-token')).status, 403);
    assert.equal(rejections().length, 1, 'nothing more within 60 s');

    clock.advance(1);
    assert.equal((await post(BODY, 'not-the-token')).status, 403);
    const lines = rejections();
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.['reason'], 'bad_signature');
    assert.equal(lines[1]?.['suppressed'], 3, 'the three left out since the previous line');

    assert.equal((await post(BODY, 'not-the-token')).status, 403);
    assert.equal(rejections().length, 2, 'a new window started with that line');
    const text = await h.scrape();
    assert.equal(sampleValue(text, 'voice_insights_exporter_signature_failures_total', { reason: 'bad_signature' }), 6);
  });

  test('another reason in the same minute has its own line: body_hash_mismatch with the claimed bodySHA256', async () => {
    const signed = signTwilioRequest(TEST_TOKEN, PUBLIC_URL, Buffer.from(BODY));
    signaturesSent.push(signed.signature);
    const res = await fetch(`${new URL(h.webhookUrl).origin}/events${new URL(signed.url).search}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-twilio-signature': signed.signature,
        authorization: RIGHT_AUTH,
      },
      body: BODY.replace('"x"', '"y"'),
    });
    assert.equal(res.status, 403);
    const line = rejections().find((l) => l['reason'] === 'body_hash_mismatch');
    assert.ok(line !== undefined);
    assert.equal(line['level'], 40);
    assert.equal(line['url'], `${SHOWN_URL}?bodySHA256=${bodyHash(BODY)}`);
    assert.equal(line['urlsTried'], undefined, 'no HMAC was computed');
    assert.match(String(line['hint']), /rewrote the body/);
    assert.doesNotMatch(String(line['hint']), /PUBLIC_URL|TWILIO_AUTH_TOKEN/);
  });

  test('Basic-auth and missing-signature failures go through the same log', async () => {
    assert.equal((await post(BODY, TEST_TOKEN, basic('twilio', 'wrong-pw'))).status, 401);
    assert.equal((await post(BODY, TEST_TOKEN, '')).status, 401);
    assert.equal(
      (await h.post(BODY, { token: null, requestPath: '/events', headers: { authorization: RIGHT_AUTH } })).status,
      401,
    );
    const byReason = new Map(rejections().map((l) => [l['reason'], l]));
    for (const reason of ['basic_auth_wrong', 'basic_auth_missing', 'missing_signature']) {
      const line = byReason.get(reason);
      assert.ok(line !== undefined, reason);
      assert.equal(line['level'], 40, reason);
      assert.match(String(line['url']), /^https:\/\/twilio:\*\*\*@hooks\.example\.com\/twilio\/events/, reason);
      assert.equal(line['suppressed'], 0, reason);
    }
    assert.match(String(byReason.get('basic_auth_wrong')?.['hint']), /BASIC_AUTH_USER/);
  });

  test('no line holds a token, a signature header value or a Basic-auth password', () => {
    const all = output.join('');
    assert.ok(rejections().length >= 5);
    for (const secret of [
      TEST_TOKEN,
      'not-the-token',
      PASSWORD,
      'wrong-pw',
      RIGHT_AUTH.slice('Basic '.length),
      basic('twilio', 'wrong-pw').slice('Basic '.length),
      ...signaturesSent,
    ]) {
      assert.ok(!all.includes(secret), `the log holds ${secret}`);
    }
  });
});

describe('SignatureFailureLog and maskUrlPassword', () => {
  test('masks the password only, keeping the spelling; the userinfo runs to the last @', () => {
    assert.equal(
      maskUrlPassword('https://u:p%40ss@h.example.com:443/e?bodySHA256=ab'),
      'https://u:***@h.example.com:443/e?bodySHA256=ab',
    );
    assert.equal(maskUrlPassword('https://u:p@ss@h.example.com/e'), 'https://u:***@h.example.com/e');
    assert.equal(maskUrlPassword('https://u@h.example.com/e'), 'https://u@h.example.com/e');
    assert.equal(maskUrlPassword('https://h.example.com/e?x=a@b'), 'https://h.example.com/e?x=a@b');
  });

  test('query values other than bodySHA256 are masked, names and spelling kept', () => {
    assert.equal(
      maskQueryValues('https://h.example.com/e?key=s3cret&bodySHA256=ab&flag&empty=#frag'),
      'https://h.example.com/e?key=***&bodySHA256=ab&flag&empty=#frag',
    );
    assert.equal(maskQueryValues('https://h.example.com/e'), 'https://h.example.com/e');
  });

  test('a logged URL never shows a secret carried in the sink URL query', () => {
    const output: string[] = [];
    const log = new SignatureFailureLog(
      createLogger('info', { write: (l: string) => void output.push(l) }),
      new ManualClock(),
    );
    log.record({
      reason: 'bad_signature',
      url: 'https://u:pw@h.example.com/e?gateway_token=s3cret&bodySHA256=ab',
      urlsTried: ['https://h.example.com:443/e?gateway_token=s3cret&bodySHA256=ab'],
      urlFrom: 'PUBLIC_URL',
      remoteAddress: '::1',
      hint: 'h',
    });
    const text = output.join('');
    assert.ok(!text.includes('s3cret') && !text.includes(':pw@'), text);
    assert.match(text, /gateway_token=\*\*\*&bodySHA256=ab/);
  });

  test('a clock stepped back opens a new window; reasons are limited separately', () => {
    const clock = new ManualClock();
    const output: string[] = [];
    const log = new SignatureFailureLog(createLogger('info', { write: (l: string) => void output.push(l) }), clock);
    const failure = { url: 'https://h.example.com/e', urlFrom: 'PUBLIC_URL', remoteAddress: '::1', hint: 'h' };
    log.record({ ...failure, reason: 'bad_signature' });
    log.record({ ...failure, reason: 'bad_signature' });
    log.record({ ...failure, reason: 'missing_signature' });
    clock.advance(-1000);
    log.record({ ...failure, reason: 'bad_signature' });
    const lines = output.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l['reason'], l['suppressed']]),
      [
        ['bad_signature', 0],
        ['missing_signature', 0],
        ['bad_signature', 1],
      ],
    );
  });
});
