// Starts a real exporter (the composition root, real HTTP on loopback, ephemeral ports, a temporary
// DATA_DIR) and posts to it signed exactly as Twilio signs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Env } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { signTwilioRequest } from '../../src/http/signature.js';
import { systemClock } from '../../src/clock.js';

export const TEST_TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

export interface PostOptions {
  /** Sign with this token (default TEST_TOKEN); null sends no signature. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Destination the signature is computed for (default: the exporter's own webhook URL). */
  signedFor?: string;
  /** Path and query actually requested, when it differs from what was signed (proxy rewrites). */
  requestPath?: string;
}

export interface Harness {
  app: App;
  dataDir: string;
  webhookUrl: string;
  metricsUrl: string;
  post(
    body: string | Buffer | unknown[] | Record<string, unknown>,
    opts?: PostOptions,
  ): Promise<{ status: number; json: unknown; headers: Headers }>;
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

export async function startExporter(env: Env = {}, deps: { clock?: Clock; logger?: Logger } = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vie-'));
  // Traces are off unless a test points them at its own OTLP receiver.
  const result = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    DATA_DIR: dataDir,
    TWILIO_AUTH_TOKEN: TEST_TOKEN,
    OTEL_TRACES_EXPORTER: 'none',
    ...env,
  });
  if (!result.ok) throw new Error(`test config invalid: ${result.problems.join('; ')}`);
  const app = await createApp(result.config, { clock: deps.clock ?? systemClock, logger: deps.logger ?? silentLogger });
  const { webhookPort, metricsPort } = await app.start();
  const origin = `http://127.0.0.1:${webhookPort}`;
  const webhookUrl = `${origin}${result.config.webhookPath}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

  return {
    app,
    dataDir,
    webhookUrl,
    metricsUrl,
    async post(body, opts = {}) {
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const token = opts.token === undefined ? TEST_TOKEN : opts.token;
      const signed = signTwilioRequest(token ?? 'unused', opts.signedFor ?? webhookUrl, raw);
      const target =
        opts.requestPath === undefined ? signed.url : `${origin}${opts.requestPath}${new URL(signed.url).search}`;
      const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
      if (token !== null) headers['x-twilio-signature'] = signed.signature;
      const res = await fetch(target, { method: 'POST', headers, body: raw });
      const text = await res.text();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, json, headers: res.headers };
    },
    async scrape() {
      const res = await fetch(metricsUrl);
      if (res.status !== 200) throw new Error(`scrape answered ${res.status}`);
      return res.text();
    },
    async stop() {
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
