// The simulator's HTTP sender posts each delivery as Twilio does: a JSON array with one CloudEvent,
// Content-Type application/json, X-Twilio-Signature over the public URL with bodySHA256, sent to the
// target with the signed query string; the signatures verify with the exporter's own verifier.
import { afterAll, beforeAll, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyTwilioRequest } from '../../src/http/signature.js';
import { createHttpPoster } from '../../src/sim/sender.js';

const TOKEN = 'sim-sender-token-0a1b2c3d4e5f';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server;
let origin: string;
const received: Received[] = [];
let connections = 0;
/** Status to answer with; 0 means never answer. */
let answerWith = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      if (answerWith === 0) return;
      res.writeHead(answerWith, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const body = (n: number) =>
  Buffer.from(
    JSON.stringify([
      {
        specversion: '1.0',
        id: `EZ${String(n).padStart(32, '0')}`,
        type: 'com.twilio.voice.insights.call-event.gateway',
        data: {},
      },
    ]),
  );

describe('signed like Twilio', () => {
  test('public URL = target: the exact signed URL is requested and verifies; keep-alive reuses one connection', async () => {
    received.length = 0;
    connections = 0;
    answerWith = 200;
    const target = `${origin}/events`;
    const poster = createHttpPoster({ target, publicUrl: target, token: TOKEN, timeoutMs: 2000, maxSockets: 4 });
    try {
      for (let i = 0; i < 5; i++) assert.equal(await poster.post(body(i)), 200);
    } finally {
      poster.close();
    }
    assert.equal(received.length, 5);
    assert.equal(connections, 1, 'sequential posts share a kept-alive connection');
    for (const r of received) {
      assert.equal(r.method, 'POST');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.match(r.url, /^\/events\?bodySHA256=[0-9a-f]{64}$/);
      const parsed: unknown = JSON.parse(r.body.toString('utf8'));
      assert.ok(Array.isArray(parsed) && parsed.length === 1, 'a JSON array with one CloudEvent');
      const verdict = verifyTwilioRequest([TOKEN], {
        url: `${origin}${r.url}`,
        signature: String(r.headers['x-twilio-signature']),
        rawBody: r.body,
      });
      assert.deepEqual(verdict, { ok: true, tokenIndex: 0 });
      assert.equal(
        verifyTwilioRequest(['another-token'], {
          url: `${origin}${r.url}`,
          signature: String(r.headers['x-twilio-signature']),
          rawBody: r.body,
        }).ok,
        false,
      );
    }
  });

  test("behind a proxy: signed for the public URL (its query kept), sent to the target, Basic auth from the URL's credentials", async () => {
    received.length = 0;
    answerWith = 200;
    const publicUrl = 'https://twilio:s3cret@hooks.example.com/twilio/events?sink=primary';
    const poster = createHttpPoster({
      target: `${origin}/in`,
      publicUrl,
      token: TOKEN,
      timeoutMs: 2000,
      maxSockets: 1,
    });
    try {
      assert.equal(await poster.post(body(42)), 200);
    } finally {
      poster.close();
    }
    const r = received[0];
    assert.ok(r);
    assert.match(r.url, /^\/in\?sink=primary&bodySHA256=[0-9a-f]{64}$/);
    assert.equal(r.headers['authorization'], `Basic ${Buffer.from('twilio:s3cret').toString('base64')}`);
    const search = r.url.slice(r.url.indexOf('?'));
    const verdict = verifyTwilioRequest([TOKEN], {
      url: `https://twilio:s3cret@hooks.example.com/twilio/events${search}`,
      signature: String(r.headers['x-twilio-signature']),
      rawBody: r.body,
    });
    assert.equal(verdict.ok, true);
  });
});

describe('answers', () => {
  test('statuses are returned as given; no answer within the timeout is "timeout"; a refused connection is "error"', async () => {
    const target = `${origin}/events`;
    const poster = createHttpPoster({ target, publicUrl: target, token: TOKEN, timeoutMs: 300, maxSockets: 2 });
    try {
      answerWith = 503;
      assert.equal(await poster.post(body(1)), 503);
      answerWith = 0;
      assert.equal(await poster.post(body(2)), 'timeout');
    } finally {
      answerWith = 200;
      poster.close();
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = createHttpPoster({
      target: `http://127.0.0.1:${port}/events`,
      publicUrl: `http://127.0.0.1:${port}/events`,
      token: TOKEN,
      timeoutMs: 1000,
      maxSockets: 1,
    });
    try {
      assert.equal(await refused.post(body(3)), 'error');
    } finally {
      refused.close();
    }
  });
});
