// The connection to a Redis or Valkey server (STORE_URL=redis://[user:password@]host:port[/db], or
// rediss:// for TLS), through ioredis. Everything here is about failing fast and recovering alone:
// - every command has a timeout, so a slow server turns into a 503 (Twilio retries), not a hung request;
// - no offline queue and no resending after a reconnect: a command issued while the link is down fails
//   at once (503 again) instead of waiting, and a write whose reply was lost is never sent a second time
//   behind the caller's back (the caller decides: our scripts are safe to run again, a request is retried);
// - the client reconnects by itself, forever, at most a second apart.
// The URL may hold a password: only `describeTarget` (host, port, db) ever reaches a log or /readyz.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

export interface ConnectionOptions {
  url: string;
  /** A command without a reply after this long fails (default 1500 ms). */
  commandTimeoutMs: number;
  /** Name shown by CLIENT LIST on the server. */
  connectionName: string;
}

/** `host:port/db` of a redis:// URL, without credentials. */
export function describeTarget(url: string): string {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '') || '0';
  return `${u.protocol === 'rediss:' ? 'rediss' : 'redis'}://${u.hostname}:${u.port || '6379'}/${db}`;
}

export function connect(opts: ConnectionOptions): Redis {
  const options: RedisOptions = {
    connectionName: opts.connectionName,
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: Math.max(1000, opts.commandTimeoutMs),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Commands issued in one tick go out as one pipeline: concurrent requests share round trips, and
    // with `appendfsync always` the server syncs once for all of them (group commit on the server side).
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000) + Math.floor(Math.random() * 100),
  };
  // ioredis reads user, password, host and port and db from the URL; TLS is asked for here, since it
  // only recognises a lower-case `rediss://`. The server's certificate is verified against Node's CA
  // store: a private CA is added with NODE_EXTRA_CA_CERTS.
  if (new URL(opts.url).protocol === 'rediss:') options.tls = {};
  return new Redis(opts.url, options);
}

/** Resolves when the client is ready, or false after `timeoutMs` (the store then starts unhealthy). */
export function waitReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}

export interface Script {
  name: string;
  lua: string;
  sha: string;
}

export function script(name: string, lua: string): Script {
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** EVALSHA, falling back to EVAL once when the server does not know the script (first use, restart, failover). */
export async function runScript(
  client: Redis,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(s.lua, keys.length, ...keys, ...args);
  }
}
