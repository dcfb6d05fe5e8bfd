// The webhook port's node:http server: the limits a public endpoint needs before Koa sees a request.
// Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval (30 s by
// default), so without a shorter interval a 10 s header timeout fires after up to 40 s
// (https://nodejs.org/docs/latest-v20.x/api/http.html#httpcreateserveroptions-requestlistener).
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';

/** Twilio waits 5 s for an answer; longer keep-alive than typical load balancers (60 s) avoids racing their reuse. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const MAX_CHECKING_INTERVAL_MS = 1000;

export type WebhookServerLimits = Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'maxConnections'>;

export interface WebhookServerHooks {
  /**
   * Node answered 408 itself on a connection whose request never reached the handler: its headers did
   * not arrive within headersTimeoutMs. (A body that is too slow is answered 408 by node as well, but
   * that request is in the handler, which counts it: see readRawBody.)
   */
  onHeadersTimeout?: () => void;
}

/** How often node looks for expired requests: a quarter of the header timeout, at most once a second. */
export function connectionsCheckingInterval(limits: Pick<Config, 'headersTimeoutMs'>): number {
  return Math.max(1, Math.min(MAX_CHECKING_INTERVAL_MS, Math.floor(limits.headersTimeoutMs / 4)));
}

export function createWebhookHttpServer(
  handler: RequestListener,
  config: WebhookServerLimits,
  hooks: WebhookServerHooks = {},
): Server {
  const server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingInterval(config),
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    handler,
  );
  // Past it node closes new connections at once (and emits 'drop').
  server.maxConnections = config.maxConnections;

  const { onHeadersTimeout } = hooks;
  if (onHeadersTimeout !== undefined) {
    // Sockets with a request in the handler: a timeout there is the handler's to count, not ours.
    const busy = new WeakSet<Socket>();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      busy.add(req.socket);
      res.once('close', () => busy.delete(req.socket));
    });
    server.on('connection', (socket: Socket) => {
      socket.on('error', (err: unknown) => {
        if (isNodeTimeout(err) && !busy.has(socket)) onHeadersTimeout();
      });
    });
  }
  return server;
}

/** The error node destroys a connection with when headersTimeout or requestTimeout expired. */
export function isNodeTimeout(err: unknown): boolean {
  // Not `instanceof Error`: node's internal errors may come from another realm (a vm context, jest).
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
}
