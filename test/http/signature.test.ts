import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import {
  publicRequestUrl,
  signatureUrlVariants,
  signTwilioRequest,
  twilioSignature,
  verifyTwilioRequest,
} from '../../src/http/signature.js';

// twilio-node spec/validation.spec.js (reference §6.2), verbatim. `signed` is the spelling the expected
// value is the HMAC of: for vector 3 that is the :443 form (the URL as written signs to
// rw/jVviOgicj2+kHZULvebnA4ag=); twilio-node's own test only passes through its default-port variant.
const TOKEN = '12345';
const BODY = '{"property": "value", "boolean": true}';
const BODY_HASH = '0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620';
const EMPTY_BODY_HASH = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const VECTORS = [
  {
    url: `https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=${BODY_HASH}`,
    body: BODY,
    expected: 'a9nBmqA0ju/hNViExpshrM61xv4=',
  },
  {
    url: `https://mycompany.com/myapp.php?bodySHA256=${BODY_HASH}`,
    body: BODY,
    expected: 'y77kIzt2vzLz71DgmJGsen2scGs=',
  },
  {
    url: `https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=${EMPTY_BODY_HASH}`,
    body: '{}',
    expected: 'Ldidvp12m26NI7eqEvxnEpkd9Hc=',
    signed: `https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=${EMPTY_BODY_HASH}`,
  },
] as const;

const SINK = 'https://hooks.example.com/twilio/events';
const PAYLOAD = Buffer.from(
  '[{"specversion":"1.0","type":"com.twilio.voice.insights.call-summary.complete","id":"EZ1"}]',
);

function verify(tokens: readonly string[], url: string, signature: string | undefined, rawBody: Buffer) {
  return verifyTwilioRequest(tokens, { url, signature, rawBody });
}

describe('twilio-node test vectors', () => {
  for (const [i, v] of VECTORS.entries()) {
    test(`vector ${i + 1}: twilioSignature`, () => {
      assert.equal(twilioSignature(TOKEN, 'signed' in v ? v.signed : v.url), v.expected);
    });
    test(`vector ${i + 1}: verifyTwilioRequest with the body bytes`, () => {
      assert.deepEqual(verify([TOKEN], v.url, v.expected, Buffer.from(v.body, 'utf8')), { ok: true, tokenIndex: 0 });
    });
  }

  test('vector 3 as written is signed with the default port', () => {
    assert.equal(twilioSignature(TOKEN, VECTORS[2].url), 'rw/jVviOgicj2+kHZULvebnA4ag=');
  });

  test('signTwilioRequest reproduces vector 1 from the destination', () => {
    const signed = signTwilioRequest(TOKEN, 'https://mycompany.com/myapp.php?foo=1&bar=2', Buffer.from(BODY));
    assert.deepEqual(signed, { url: VECTORS[0].url, signature: VECTORS[0].expected });
  });

  // The form-parameter vectors of the same spec pin down the spelling of the port and userinfo variants:
  // the signed string there is URL + sorted key/value pairs.
  test('variant spellings match twilio-node (default port, credentials, just a username)', () => {
    const params = 'CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212';
    const signatures = (url: string) =>
      (signatureUrlVariants(url) ?? []).map((v) => twilioSignature(TOKEN, v + params));
    const plain = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    assert.ok(signatures(plain).includes('RSOYDt4T1cUTdK1PDd93/VVr8B8='));
    assert.ok(signatures(plain).includes('kvajT1Ptam85bY51eRf/AJRuM3w=')); // :443 added
    assert.ok(signatures(plain.replace('https', 'http')).includes('0ZXoZLH/DfblKGATFgpif+LLRf4=')); // :80 added
    assert.ok(signatures(plain.replace('.com', '.com:1234')).includes('RSOYDt4T1cUTdK1PDd93/VVr8B8=')); // port stripped
    const creds = 'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2';
    assert.ok(signatures(creds).includes('CukzLTc1tT5dXEDIHm/tKBanW10='));
    assert.ok(signatures(creds).includes('ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=')); // :443 added, credentials kept
    assert.ok(signatures('https://user@mycompany.com/myapp.php?foo=1&bar=2').includes('2YRLlVAflCqxaNicjMpJcSTgzSs='));
    assert.ok(signatures(`${plain}&Body=It's+amazing`).includes('dsq4Ehbj6cs+KdTkpF5sSSplOWw=')); // as given
  });
});

describe('verifyTwilioRequest', () => {
  test('ports: signed with the default port verifies without it, and the other way round', () => {
    for (const [signedAs, receivedAs] of [
      ['https://h.example.com:443/ev', 'https://h.example.com/ev'],
      ['https://h.example.com/ev', 'https://h.example.com:443/ev'],
      ['http://h.example.com:80/ev', 'http://h.example.com/ev'],
      ['http://h.example.com/ev', 'http://h.example.com:80/ev'],
      ['https://h.example.com/ev', 'https://h.example.com:8443/ev'],
      ['https://h.example.com:8443/ev', 'https://h.example.com:8443/ev'],
    ] as const) {
      const signed = signTwilioRequest(TOKEN, signedAs, PAYLOAD);
      const received = `${receivedAs}${signed.url.slice(signed.url.indexOf('?'))}`;
      assert.deepEqual(
        verify([TOKEN], received, signed.signature, PAYLOAD),
        { ok: true, tokenIndex: 0 },
        `${signedAs} -> ${receivedAs}`,
      );
    }
  });

  test('a different non-default port is not accepted', () => {
    const signed = signTwilioRequest(TOKEN, 'https://h.example.com:8443/ev', PAYLOAD);
    const received = signed.url.replace(':8443', ':9443');
    assert.deepEqual(verify([TOKEN], received, signed.signature, PAYLOAD), { ok: false, reason: 'bad_signature' });
  });

  test('wrong token -> bad_signature', () => {
    const signed = signTwilioRequest('other-token', SINK, PAYLOAD);
    assert.deepEqual(verify([TOKEN], signed.url, signed.signature, PAYLOAD), { ok: false, reason: 'bad_signature' });
  });

  test('token rotation: the second token matches with tokenIndex 1', () => {
    const signed = signTwilioRequest('new-token', SINK, PAYLOAD);
    assert.deepEqual(verify(['old-token', 'new-token'], signed.url, signed.signature, PAYLOAD), {
      ok: true,
      tokenIndex: 1,
    });
  });

  test('an empty token never validates, even a signature made with an empty key', () => {
    const signed = signTwilioRequest('', SINK, PAYLOAD);
    assert.deepEqual(verify([''], signed.url, signed.signature, PAYLOAD), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verify([], signed.url, signed.signature, PAYLOAD), { ok: false, reason: 'bad_signature' });
  });

  test('tampered body (one byte changed) -> body_hash_mismatch', () => {
    const signed = signTwilioRequest(TOKEN, SINK, PAYLOAD);
    const tampered = Buffer.from(PAYLOAD);
    tampered[10] = (tampered[10] ?? 0) ^ 0x01;
    assert.deepEqual(verify([TOKEN], signed.url, signed.signature, tampered), {
      ok: false,
      reason: 'body_hash_mismatch',
    });
  });

  test('missing or empty header -> missing_signature', () => {
    const signed = signTwilioRequest(TOKEN, SINK, PAYLOAD);
    assert.deepEqual(verify([TOKEN], signed.url, undefined, PAYLOAD), { ok: false, reason: 'missing_signature' });
    assert.deepEqual(verify([TOKEN], signed.url, '', PAYLOAD), { ok: false, reason: 'missing_signature' });
    assert.deepEqual(verify([TOKEN], signed.url, '   ', PAYLOAD), { ok: false, reason: 'missing_signature' });
  });

  test('URL without bodySHA256 -> missing_body_hash, even when its HMAC is right', () => {
    const url = `${SINK}?foo=1`;
    assert.deepEqual(verify([TOKEN], url, twilioSignature(TOKEN, url), PAYLOAD), {
      ok: false,
      reason: 'missing_body_hash',
    });
    assert.deepEqual(verify([TOKEN], SINK, twilioSignature(TOKEN, SINK), PAYLOAD), {
      ok: false,
      reason: 'missing_body_hash',
    });
    const empty = `${SINK}?bodySHA256=`;
    assert.deepEqual(verify([TOKEN], empty, twilioSignature(TOKEN, empty), PAYLOAD), {
      ok: false,
      reason: 'missing_body_hash',
    });
  });

  test('replayed URL + signature with a different body is rejected', () => {
    const signed = signTwilioRequest(TOKEN, SINK, PAYLOAD);
    const forged = Buffer.from(
      '[{"specversion":"1.0","type":"com.twilio.voice.insights.call-summary.complete","id":"EZ2"}]',
    );
    assert.deepEqual(verify([TOKEN], signed.url, signed.signature, forged), {
      ok: false,
      reason: 'body_hash_mismatch',
    });
    // Fixing up bodySHA256 for the forged body breaks the HMAC instead.
    const fixed = signTwilioRequest(TOKEN, SINK, forged).url;
    assert.deepEqual(verify([TOKEN], fixed, signed.signature, forged), { ok: false, reason: 'bad_signature' });
  });

  test('signature header of the wrong length or not base64 -> bad_signature, never a throw', () => {
    const signed = signTwilioRequest(TOKEN, SINK, PAYLOAD);
    const hostile = [
      'WRONG_SIGNATURE',
      `${signed.signature}AAAA`,
      signed.signature.slice(0, -2),
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      signed.signature.replace(/\+/g, ' '),
      '=',
      '\u0000\u00ff\ud800',
      'A'.repeat(100_000),
    ];
    for (const header of hostile) {
      assert.deepEqual(
        verify([TOKEN], signed.url, header, PAYLOAD),
        { ok: false, reason: 'bad_signature' },
        header.slice(0, 40),
      );
    }
    // Buffer.from(…, 'base64') would decode the URL-safe alphabet to the same bytes; Twilio never sends it.
    const v = VECTORS[0];
    const urlSafe = v.expected.replace('/', '_');
    assert.notEqual(urlSafe, v.expected);
    assert.deepEqual(verify([TOKEN], v.url, urlSafe, Buffer.from(v.body)), { ok: false, reason: 'bad_signature' });
  });

  test('malformed URL -> bad_signature, never a throw', () => {
    for (const url of [
      `not a url?bodySHA256=${EMPTY_BODY_HASH}`,
      `https://exa mple.com/?bodySHA256=${EMPTY_BODY_HASH}`,
      `?bodySHA256=${EMPTY_BODY_HASH}`,
    ]) {
      assert.deepEqual(
        verify([TOKEN], url, twilioSignature(TOKEN, url), Buffer.from('{}')),
        { ok: false, reason: 'bad_signature' },
        url,
      );
    }
    assert.deepEqual(verify([TOKEN], `${SINK}?bodySHA256=%zz`, 'x', PAYLOAD), {
      ok: false,
      reason: 'body_hash_mismatch',
    });
    assert.deepEqual(verify([TOKEN], `${SINK}?bodySHA256=${'g'.repeat(64)}`, 'x', PAYLOAD), {
      ok: false,
      reason: 'body_hash_mismatch',
    });
  });

  test('a body with non-UTF-8 bytes is hashed byte-exact', () => {
    const raw = Buffer.from([0x5b, 0x7b, 0x22, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x22, 0x7d, 0x5d]);
    const signed = signTwilioRequest(TOKEN, SINK, raw);
    assert.deepEqual(verify([TOKEN], signed.url, signed.signature, raw), { ok: true, tokenIndex: 0 });
    // Round-tripping through a string replaces the invalid bytes and must not verify.
    const reDecoded = Buffer.from(raw.toString('utf8'), 'utf8');
    assert.deepEqual(verify([TOKEN], signed.url, signed.signature, reDecoded), {
      ok: false,
      reason: 'body_hash_mismatch',
    });
  });

  test('bodySHA256 hex is case-insensitive, and the first of duplicated values wins', () => {
    const hash = signTwilioRequest(TOKEN, SINK, PAYLOAD).url.split('bodySHA256=')[1] ?? '';
    const upper = `${SINK}?bodySHA256=${hash.toUpperCase()}`;
    assert.deepEqual(verify([TOKEN], upper, twilioSignature(TOKEN, upper), PAYLOAD), { ok: true, tokenIndex: 0 });
    const dup = `${SINK}?bodySHA256=${hash}&bodySHA256=${EMPTY_BODY_HASH}`;
    assert.deepEqual(verify([TOKEN], dup, twilioSignature(TOKEN, dup), PAYLOAD), { ok: true, tokenIndex: 0 });
    const dupFirstWrong = `${SINK}?bodySHA256=${EMPTY_BODY_HASH}&bodySHA256=${hash}`;
    assert.deepEqual(verify([TOKEN], dupFirstWrong, twilioSignature(TOKEN, dupFirstWrong), PAYLOAD), {
      ok: false,
      reason: 'body_hash_mismatch',
    });
  });

  test('destination with an existing query string', () => {
    const signed = signTwilioRequest(TOKEN, `${SINK}?sink=prod&note=two%20words`, PAYLOAD);
    assert.match(
      signed.url,
      /^https:\/\/hooks\.example\.com\/twilio\/events\?sink=prod&note=two%20words&bodySHA256=[0-9a-f]{64}$/,
    );
    assert.deepEqual(verify([TOKEN], signed.url, signed.signature, PAYLOAD), { ok: true, tokenIndex: 0 });
    assert.match(signTwilioRequest(TOKEN, `${SINK}?`, PAYLOAD).url, /\/events\?bodySHA256=[0-9a-f]{64}$/);
    assert.match(signTwilioRequest(TOKEN, `${SINK}?a=1&`, PAYLOAD).url, /\/events\?a=1&bodySHA256=[0-9a-f]{64}$/);
  });

  test('query encoded differently by Twilio: legacy querystring form is accepted', () => {
    // Twilio signed the node:querystring spelling (%20); the request arrived with '+'.
    const hash = signTwilioRequest(TOKEN, SINK, PAYLOAD).url.split('bodySHA256=')[1] ?? '';
    const signedUrl = `${SINK}?note=It's%20fine&bodySHA256=${hash}`;
    const received = `${SINK}?note=It's+fine&bodySHA256=${hash}`;
    assert.deepEqual(verify([TOKEN], received, twilioSignature(TOKEN, signedUrl), PAYLOAD), {
      ok: true,
      tokenIndex: 0,
    });
  });

  describe('userinfo (Basic auth credentials in the sink URL)', () => {
    const withCreds = 'https://user:p%40ss@hooks.example.com/twilio/events';
    test('signed with userinfo, received with userinfo (as given and with :443)', () => {
      const signed = signTwilioRequest(TOKEN, withCreds, PAYLOAD);
      assert.deepEqual(verify([TOKEN], signed.url, signed.signature, PAYLOAD), { ok: true, tokenIndex: 0 });
      const withPort = signTwilioRequest(TOKEN, withCreds.replace('.com', '.com:443'), PAYLOAD);
      assert.deepEqual(verify([TOKEN], signed.url, withPort.signature, PAYLOAD), { ok: true, tokenIndex: 0 });
    });
    test('signed without userinfo, received with it (PUBLIC_URL carries the credentials)', () => {
      const signed = signTwilioRequest(TOKEN, SINK, PAYLOAD);
      const received = signed.url.replace('https://', 'https://user:p%40ss@');
      assert.deepEqual(verify([TOKEN], received, signed.signature, PAYLOAD), { ok: true, tokenIndex: 0 });
      const receivedWithPort = received.replace('.com', '.com:443');
      assert.deepEqual(verify([TOKEN], receivedWithPort, signed.signature, PAYLOAD), { ok: true, tokenIndex: 0 });
    });
    test('variants are unique and include the userinfo-less forms', () => {
      const variants = signatureUrlVariants(`${withCreds}?bodySHA256=${EMPTY_BODY_HASH}`) ?? [];
      assert.equal(new Set(variants).size, variants.length);
      assert.ok(variants.includes(`${SINK}?bodySHA256=${EMPTY_BODY_HASH}`));
      assert.ok(variants.includes(`https://hooks.example.com:443/twilio/events?bodySHA256=${EMPTY_BODY_HASH}`));
      assert.ok(
        variants.includes(`https://user:p%40ss@hooks.example.com:443/twilio/events?bodySHA256=${EMPTY_BODY_HASH}`),
      );
    });
  });
});

describe('publicRequestUrl', () => {
  const base = { trustProxy: false, host: 'exporter.internal:8080', protocol: 'http' } as const;

  test('PUBLIC_URL: its scheme/userinfo/host/port/path plus the query as received (proxy rewrote the path)', () => {
    const publicUrl = 'https://user:p%40ss@hooks.example.com:8443/twilio/events?sink=prod';
    const signed = signTwilioRequest(TOKEN, publicUrl, PAYLOAD);
    const query = signed.url.slice(signed.url.indexOf('?'));
    const url = publicRequestUrl({ ...base, publicUrl, requestUrl: `/events${query}` });
    assert.equal(url, signed.url);
    assert.deepEqual(verify([TOKEN], url ?? '', signed.signature, PAYLOAD), { ok: true, tokenIndex: 0 });
  });

  test('PUBLIC_URL wins over forwarded headers, even behind a trusted proxy', () => {
    const url = publicRequestUrl({
      ...base,
      trustProxy: true,
      publicUrl: 'https://hooks.example.com/events',
      requestUrl: '/internal?bodySHA256=abc',
      forwardedHost: 'evil.example.com',
      forwardedProto: 'http',
    });
    assert.equal(url, 'https://hooks.example.com/events?bodySHA256=abc');
  });

  test('PUBLIC_URL and a request without a query', () => {
    assert.equal(
      publicRequestUrl({ ...base, publicUrl: 'https://h.example.com/e#frag', requestUrl: '/e' }),
      'https://h.example.com/e',
    );
  });

  test('without PUBLIC_URL: trusted X-Forwarded-* (first value of a comma list)', () => {
    const url = publicRequestUrl({
      ...base,
      publicUrl: undefined,
      trustProxy: true,
      requestUrl: '/events?bodySHA256=abc',
      forwardedProto: 'https, http',
      forwardedHost: 'hooks.example.com, lb.internal',
    });
    assert.equal(url, 'https://hooks.example.com/events?bodySHA256=abc');
  });

  test('without PUBLIC_URL: untrusted X-Forwarded-* are ignored', () => {
    const url = publicRequestUrl({
      ...base,
      publicUrl: undefined,
      requestUrl: '/events?bodySHA256=abc',
      forwardedProto: 'https',
      forwardedHost: 'hooks.example.com',
    });
    assert.equal(url, 'http://exporter.internal:8080/events?bodySHA256=abc');
  });

  test('trusted proxy without (usable) forwarded headers falls back to the request', () => {
    const url = publicRequestUrl({
      ...base,
      publicUrl: undefined,
      trustProxy: true,
      requestUrl: '/e',
      forwardedProto: 'ftp',
      forwardedHost: ' ',
    });
    assert.equal(url, 'http://exporter.internal:8080/e');
  });

  test('no usable host -> undefined', () => {
    assert.equal(publicRequestUrl({ ...base, publicUrl: undefined, host: undefined, requestUrl: '/e' }), undefined);
    assert.equal(publicRequestUrl({ ...base, publicUrl: undefined, host: '', requestUrl: '/e' }), undefined);
    assert.equal(publicRequestUrl({ ...base, publicUrl: undefined, host: 'evil.com/x?', requestUrl: '/e' }), undefined);
    assert.equal(publicRequestUrl({ ...base, publicUrl: 'not a url', requestUrl: '/e' }), undefined);
  });
});
