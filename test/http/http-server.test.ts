// The webhook port's node:http server (createWebhookHttpServer): header and body timeouts that fire
// when configured (node checks them only every connectionsCheckingInterval), a connection cap, and
// node's own 408 answers counted as 408 in the request metric. Real sockets on loopback, small timeouts.
import { afterEach, describe, test } from '@jest/globals';
import assert from '../support/assert.js';
import type { RequestListener, Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import Koa from 'koa';
import { errorFunnel } from '../../src/http/errors.js';
import { readRawBody } from '../../src/http/body.js';
import {
  connectionsCheckingInterval,
  createWebhookHttpServer,
  type WebhookServerHooks,
  type WebhookServerLimits,
} from '../../src/http/http-server.js';
import { silentLogger } from '../../src/logger.js';

const SHORT: WebhookServerLimits = { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 100 };
/** Well under node's default 30 s check interval, with room for a busy machine. */
const PROMPTLY_MS = 2000;

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function listen(
  handler: RequestListener,
  limits: WebhookServerLimits,
  hooks?: WebhookServerHooks,
): Promise<{ server: Server; port: number }> {
  const server = createWebhookHttpServer(handler, limits, hooks);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

interface Connection {
  socket: Socket;
  /** Resolves when the server ends the connection: what it sent and how long after connecting. */
  closed: Promise<{ data: string; ms: number }>;
}

function open(port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', () => {
      // ECONNRESET when the server drops the connection: 'close' follows
    });
    const closed = new Promise<{ data: string; ms: number }>((done) =>
      socket.once('close', () => done({ data, ms: Date.now() - started })),
    );
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Writes `text` one piece at a time, `everyMs` apart, until the socket closes: a slow but live client. */
function trickle(socket: Socket, pieces: string[], everyMs: number): void {
  const timer = setInterval(() => {
    const next = pieces.shift();
    if (next === undefined || socket.destroyed) clearInterval(timer);
    else socket.write(next);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

const ok: RequestListener = (_req, res) => {
  res.end('ok');
};

/** The webhook's own layers around a body read: the error funnel (which records request metrics) and readRawBody. */
function bodyReadingApp(statuses: number[]): RequestListener {
  const app = new Koa();
  app.silent = true;
  app.use(errorFunnel({ request: (status) => void statuses.push(status) }, silentLogger, () => true));
  app.use(async (ctx) => {
    const raw = await readRawBody(ctx, 1024 * 1024);
    ctx.body = { bytes: raw.length };
  });
  const handle = app.callback();
  return (req, res) => void handle(req, res);
}

describe('connectionsCheckingInterval', () => {
  test('a quarter of the header timeout, at most 1 s', () => {
    assert.equal(connectionsCheckingInterval({ headersTimeoutMs: 10_000 }), 1000);
    assert.equal(connectionsCheckingInterval({ headersTimeoutMs: 300 }), 75);
    assert.equal(connectionsCheckingInterval({ headersTimeoutMs: 100 }), 25);
  });
});

describe('createWebhookHttpServer timeouts', () => {
  test('headers sent slowly are cut with 408 soon after headersTimeout, and counted by the hook', async () => {
    let headerTimeouts = 0;
    const { port } = await listen(ok, SHORT, { onHeadersTimeout: () => headerTimeouts++ });
    const c = await open(port);
    const headerLines = Array.from({ length: 100 }, (_, i) => `X-Slow-${i}: ${'x'.repeat(10)}\r\n`);
    trickle(c.socket, ['POST /events HTTP/1.1\r\nHost: localhost\r\n', ...headerLines], 50);
    const { data, ms } = await c.closed;
    assert.match(data, /^HTTP\/1\.1 408 /);
    assert.ok(ms >= SHORT.headersTimeoutMs - 50, `cut after ${ms} ms, before headersTimeout`);
    assert.ok(ms < PROMPTLY_MS, `cut after ${ms} ms; headersTimeout is ${SHORT.headersTimeoutMs} ms`);
    assert.equal(headerTimeouts, 1);
  });

  test('a body sent slowly is cut with 408 soon after requestTimeout, and the request metric records 408', async () => {
    const statuses: number[] = [];
    let headerTimeouts = 0;
    const { port } = await listen(bodyReadingApp(statuses), SHORT, { onHeadersTimeout: () => headerTimeouts++ });
    const c = await open(port);
    c.socket.write(
      'POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n',
    );
    trickle(
      c.socket,
      Array.from({ length: 200 }, () => ' '),
      50,
    );
    const { data, ms } = await c.closed;
    assert.match(data, /^HTTP\/1\.1 408 /);
    assert.ok(ms < PROMPTLY_MS, `cut after ${ms} ms; requestTimeout is ${SHORT.requestTimeoutMs} ms`);
    // The funnel records once the handler has settled, which may be just after the socket closed.
    for (let i = 0; i < 100 && statuses.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(statuses, [408]);
    assert.equal(headerTimeouts, 0, 'a request in the handler is counted there, not twice');
  });

  test('a body sent in time is read as before', async () => {
    const statuses: number[] = [];
    const { port } = await listen(bodyReadingApp(statuses), SHORT);
    const res = await fetch(`http://127.0.0.1:${port}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"id":"EZ1","type":"t"}]',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { bytes: 25 });
    assert.deepEqual(statuses, [200]);
  });

  test('an idle keep-alive connection between requests is not cut by the header timeout', async () => {
    let headerTimeouts = 0;
    const { port } = await listen(ok, SHORT, { onHeadersTimeout: () => headerTimeouts++ });
    const c = await open(port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    // Several check intervals and more than headersTimeout pass while the connection idles.
    await new Promise((r) => setTimeout(r, SHORT.headersTimeoutMs * 3));
    assert.equal(c.socket.destroyed, false);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const { data } = await c.closed;
    assert.equal(data.match(/HTTP\/1\.1 200 /g)?.length, 2);
    assert.equal(headerTimeouts, 0);
  });
});

describe('createWebhookHttpServer connection cap', () => {
  test('connections beyond maxConnections are closed at once; below it they are served', async () => {
    const { server, port } = await listen(ok, {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxConnections: 2,
    });
    assert.equal(server.maxConnections, 2);
    let dropped = 0;
    server.on('drop', () => dropped++);
    const first = await open(port);
    const second = await open(port);
    for (let i = 0; i < 200; i++) {
      const count = await new Promise<number>((resolve) => server.getConnections((_err, n) => resolve(n)));
      if (count === 2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const third = await open(port);
    const { data, ms } = await third.closed;
    assert.equal(data, '', 'nothing is served past the cap');
    assert.ok(ms < PROMPTLY_MS, `the extra connection stayed open ${ms} ms`);
    assert.equal(dropped, 1);

    first.socket.destroy();
    await first.closed;
    for (let i = 0; i < 200; i++) {
      const count = await new Promise<number>((resolve) => server.getConnections((_err, n) => resolve(n)));
      if (count < 2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    assert.equal(await res.text(), 'ok');
    assert.equal(second.socket.destroyed, false);
  });
});
