// What a delivery that fails the signature or Basic-auth checks is answered, over real HTTP on loopback:
// one accurate message per reason, in line with the README's troubleshooting advice.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { request } from 'node:http';
import { signTwilioRequest } from '../../src/http/signature.js';
import { startExporter, TEST_TOKEN, type Harness } from '../support/harness.js';

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
