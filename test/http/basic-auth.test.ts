import { describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { checkBasicAuth, credentialsFromUrl } from '../../src/http/basic-auth.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
const CREDS = [{ user: 'twilio', password: 's3cret' }];

describe('checkBasicAuth', () => {
  test('ok', () => {
    assert.equal(checkBasicAuth(basic('twilio:s3cret'), CREDS), 'ok');
    assert.equal(checkBasicAuth(`basic   ${Buffer.from('twilio:s3cret').toString('base64')}`, CREDS), 'ok');
  });

  test('missing', () => {
    assert.equal(checkBasicAuth(undefined, CREDS), 'missing');
    assert.equal(checkBasicAuth('', CREDS), 'missing');
    assert.equal(checkBasicAuth('  ', CREDS), 'missing');
  });

  test('wrong user or password', () => {
    assert.equal(checkBasicAuth(basic('twilio:s3cre'), CREDS), 'wrong');
    assert.equal(checkBasicAuth(basic('twilio:s3cret '), CREDS), 'wrong');
    assert.equal(checkBasicAuth(basic('Twilio:s3cret'), CREDS), 'wrong');
    assert.equal(checkBasicAuth(basic('s3cret:twilio'), CREDS), 'wrong');
    assert.equal(checkBasicAuth(basic('twilio:'), CREDS), 'wrong');
    assert.equal(checkBasicAuth(basic('twilio:s3cret'), []), 'wrong');
  });

  test('password containing ":"', () => {
    const creds = [{ user: 'u', password: 'a:b:c' }];
    assert.equal(checkBasicAuth(basic('u:a:b:c'), creds), 'ok');
    assert.equal(checkBasicAuth(basic('u:a:b'), creds), 'wrong');
  });

  test('non-ASCII credentials are compared as UTF-8', () => {
    assert.equal(checkBasicAuth(basic('zoë:pässwörd'), [{ user: 'zoë', password: 'pässwörd' }]), 'ok');
  });

  test('any of several credentials (rotation)', () => {
    const creds = [
      { user: 'old', password: 'one' },
      { user: 'new', password: 'two' },
    ];
    assert.equal(checkBasicAuth(basic('new:two'), creds), 'ok');
    assert.equal(checkBasicAuth(basic('old:two'), creds), 'wrong');
  });

  test('garbage header -> wrong, never a throw', () => {
    for (const header of [
      'Basic',
      'Basic ',
      'Basic !!!!',
      'Bearer abc.def',
      'Digest username="twilio"',
      basic('no-colon-here'),
      `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x80]).toString('base64')}`,
      `Basic ${Buffer.from('twilio:s3cret').toString('base64')} extra`,
      'Basic\u0000dHdpbGlvOnMzY3JldA==',
      `Basic ${'A'.repeat(100_000)}`,
    ]) {
      assert.equal(checkBasicAuth(header, CREDS), 'wrong', header.slice(0, 40));
    }
  });
});

describe('credentialsFromUrl', () => {
  test('percent-decoded userinfo', () => {
    assert.deepEqual(credentialsFromUrl('https://twilio:p%40ss%3Aw0rd@hooks.example.com/events'), {
      user: 'twilio',
      password: 'p@ss:w0rd',
    });
    assert.deepEqual(credentialsFromUrl('https://z%C3%AB@hooks.example.com/'), { user: 'zë', password: '' });
  });

  test('a stray % is kept literally', () => {
    assert.deepEqual(credentialsFromUrl('https://u:100%@hooks.example.com/'), { user: 'u', password: '100%' });
  });

  test('no userinfo or not a URL -> undefined', () => {
    assert.equal(credentialsFromUrl('https://hooks.example.com/events'), undefined);
    assert.equal(credentialsFromUrl('not a url'), undefined);
  });

  test('round trip with checkBasicAuth', () => {
    const creds = credentialsFromUrl('https://twilio:p%40ss@hooks.example.com/events');
    assert.ok(creds);
    assert.equal(checkBasicAuth(basic('twilio:p@ss'), [creds]), 'ok');
  });
});
