// Configuration from the environment, validated once at start with every problem reported together.
// Problems name the variable, never its value (TWILIO_AUTH_TOKEN and PUBLIC_URL may hold secrets).
// Standard OTEL_* variables are read by the OpenTelemetry SDK itself; only the ones we default are here.
import { z } from 'zod';

const MiB = 1024 * 1024;
const HOUR_S = 3600;

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const bool = (fallback: boolean) => z.stringbool().default(fallback);
const positiveInt = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

/** Comma separated list, blanks dropped: "tok1, tok2" -> ["tok1", "tok2"]. */
const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

const absoluteHttpUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v))
  .refine(
    (v) => v === undefined || (/^https?:\/\/[^/]/i.test(v) && URL.canParse(v)),
    'must be an absolute http(s) URL',
  );

/** Only the OTLP/HTTP transports are shipped; grpc would need another exporter package. */
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], {
  message: 'must be http/protobuf or http/json (grpc is not supported)',
});

const envSchema = z.object({
  PORT: port(8080),
  METRICS_PORT: port(9464),
  HOST: z.string().min(1).default('0.0.0.0'),
  METRICS_HOST: z.string().min(1).optional(),
  TWILIO_AUTH_TOKEN: csv,
  PUBLIC_URL: absoluteHttpUrl,
  TRUST_PROXY: bool(false),
  WEBHOOK_PATH: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, 'must be a path starting with /')
    .default('/events'),
  BASIC_AUTH_USER: z.string().optional(),
  BASIC_AUTH_PASSWORD: z.string().optional(),
  INSECURE_ACCEPT_UNSIGNED: bool(false),
  DATA_DIR: z.string().min(1).default('./data'),
  // unset: embedded SQLite in DATA_DIR; memory: process memory (tests, development); redis:// or
  // rediss:// (TLS): a Redis/Valkey server shared by several replicas (src/store/redis/).
  STORE_URL: z.string().trim().optional(),
  // Prefix of every key in a shared store, so that several deployments can share one Redis.
  STORE_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.{}-]{1,64}$/, 'must be 1 to 64 of A-Z a-z 0-9 : _ . { } -')
    .default('vie:'),
  // About 11 KB per call in flight (10 call events) plus ~300 B per dedup id: room for MAX_PENDING_CALLS
  // (100,000) calls and the dedup window of a busy account.
  STORE_MAX_BYTES: positiveInt(4096 * MiB, 64 * 1024),
  // FULL survives power loss; NORMAL survives a process kill but may lose the last commits on power loss.
  STORE_SYNC: z.enum(['full', 'normal']).default('full'),
  MAX_BODY_BYTES: positiveInt(MiB, 1024),
  // Twilio batches a few events per delivery; a cap stops one signed body of 300k tiny elements stalling the server.
  MAX_EVENTS_PER_REQUEST: positiveInt(1000),
  MAX_CONNECTIONS: positiveInt(1024, 1),
  HEADERS_TIMEOUT_MS: positiveInt(10_000, 100),
  REQUEST_TIMEOUT_MS: positiveInt(30_000, 100),
  // Twilio retries for up to 4 h (reference section 5); DESIGN asks for at least 5 h of dedup memory.
  DEDUP_TTL_SECONDS: positiveInt(6 * HOUR_S, 5 * HOUR_S),
  DEAD_LETTER_MAX_BYTES: positiveInt(16 * MiB, 64 * 1024),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000, 100),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  OTEL_SERVICE_NAME: z.string().min(1).default('voice-insights-exporter'),
  METRIC_LABEL_MAX_VALUES: positiveInt(100),
  // Standard OTel SDK variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/);
  // the OTLP exporters read endpoint, headers, timeout and compression themselves.
  OTEL_METRICS_EXPORTER: csv,
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: otlpProtocol.optional(),
  OTEL_METRIC_EXPORT_INTERVAL: positiveInt(60_000, 100),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).default('otlp'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  // Read by the OTLP exporters themselves; here only validated (an unparsable endpoint would silently
  // become http://localhost:4318) and shown, masked, by check-config and replay.
  OTEL_EXPORTER_OTLP_ENDPOINT: absoluteHttpUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: absoluteHttpUrl,
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: absoluteHttpUrl,
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_METRICS_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TIMEOUT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: z.string().optional(),
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: z.string().optional(),
  OTEL_EXPORTER_OTLP_COMPRESSION: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: z.string().optional(),
  OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: z.string().optional(),
  CALL_IDLE_TIMEOUT_SECONDS: positiveInt(45 * 60, 1),
  MAX_PENDING_CALLS: positiveInt(100_000, 10),
  EXPOSE_PII: bool(false),
  TRACE_QUEUE_MAX_SPANS: positiveInt(20_000, 10),
  TRACE_EXPORT_GIVE_UP_SECONDS: positiveInt(4 * HOUR_S, 1),
  TRACE_EXPORT_RETRY_INITIAL_MS: positiveInt(1000, 1),
});

/** The variables this module reads (all strings, as in process.env). */
export type Env = Partial<Record<keyof z.input<typeof envSchema>, string>>;

export interface Config {
  port: number;
  host: string;
  metricsPort: number;
  metricsHost: string;
  webhookPath: string;
  authTokens: string[];
  publicUrl: string | undefined;
  trustProxy: boolean;
  basicAuth: { user: string; password: string } | undefined;
  insecureAcceptUnsigned: boolean;
  dataDir: string;
  store: StoreSetting;
  storeMaxBytes: number;
  storeSync: 'full' | 'normal';
  maxBodyBytes: number;
  maxEventsPerRequest: number;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  dedupTtlSeconds: number;
  deadLetterMaxBytes: number;
  shutdownTimeoutMs: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  serviceName: string;
  metricLabelMaxValues: number;
  /** OTEL_METRICS_EXPORTER as understood: prometheus, otlp, none. */
  metricsExporters: string[];
  /** Where OTLP traces and metrics go, as the exporters read it from the environment: for display only. */
  otlpTargets: { traces: OtlpTarget; metrics: OtlpTarget };
  /** OTLP metrics push, alongside the /metrics scrape, when OTEL_METRICS_EXPORTER includes `otlp`. */
  otlpMetrics: { protocol: 'http/protobuf' | 'http/json'; intervalMs: number } | undefined;
  /** OTLP/HTTP trace export; undefined when OTEL_TRACES_EXPORTER=none. */
  traces:
    | { protocol: 'http/protobuf' | 'http/json'; queueMaxSpans: number; giveUpAfterMs: number; retryInitialMs: number }
    | undefined;
  callIdleTimeoutMs: number;
  maxPendingCalls: number;
  exposePii: boolean;
}

/** An OTLP/HTTP destination as the OpenTelemetry exporter will use it; nothing secret in it. */
export interface OtlpTarget {
  /** The URL posted to, user info and query values masked. */
  endpoint: string;
  /** Names of the headers added (OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS); their values are never kept. */
  headerNames: string[];
  /** Per export, the exporter's own retries included. */
  timeoutMs: number;
  compression: 'gzip' | 'none';
}

export type StoreSetting =
  | { kind: 'embedded' }
  | { kind: 'memory' }
  /** `url` may hold a password: never log or echo it (describeConfig masks it). */
  | { kind: 'redis'; url: string; keyPrefix: string };

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    return { ok: false, problems };
  }
  const e = parsed.data;
  const fromUrl = e.PUBLIC_URL === undefined ? undefined : userinfo(e.PUBLIC_URL);
  const hasUser = e.BASIC_AUTH_USER !== undefined && e.BASIC_AUTH_USER !== '';
  if (hasUser !== (e.BASIC_AUTH_PASSWORD !== undefined && e.BASIC_AUTH_PASSWORD !== '')) {
    problems.push('BASIC_AUTH_USER/BASIC_AUTH_PASSWORD: set both or neither');
  }
  if (e.PORT !== 0 && e.PORT === e.METRICS_PORT && (e.METRICS_HOST ?? e.HOST) === e.HOST) {
    problems.push('METRICS_PORT: must differ from PORT');
  }
  const metricsExporters = e.OTEL_METRICS_EXPORTER.length === 0 ? ['prometheus'] : e.OTEL_METRICS_EXPORTER;
  const unknownExporters = metricsExporters.filter((x) => !['prometheus', 'otlp', 'none'].includes(x));
  if (unknownExporters.length > 0) problems.push('OTEL_METRICS_EXPORTER: values must be among prometheus, otlp, none');
  const store = storeSetting(e.STORE_URL, e.STORE_KEY_PREFIX);
  if (typeof store === 'string') problems.push(`STORE_URL: ${store}`);
  if (problems.length > 0 || typeof store === 'string') return { ok: false, problems };
  return {
    ok: true,
    config: {
      port: e.PORT,
      host: e.HOST,
      metricsPort: e.METRICS_PORT,
      metricsHost: e.METRICS_HOST ?? e.HOST,
      webhookPath: e.WEBHOOK_PATH,
      authTokens: e.TWILIO_AUTH_TOKEN,
      publicUrl: e.PUBLIC_URL,
      trustProxy: e.TRUST_PROXY,
      basicAuth: hasUser ? { user: e.BASIC_AUTH_USER ?? '', password: e.BASIC_AUTH_PASSWORD ?? '' } : fromUrl,
      insecureAcceptUnsigned: e.INSECURE_ACCEPT_UNSIGNED,
      dataDir: e.DATA_DIR,
      store,
      storeMaxBytes: e.STORE_MAX_BYTES,
      storeSync: e.STORE_SYNC,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxEventsPerRequest: e.MAX_EVENTS_PER_REQUEST,
      maxConnections: e.MAX_CONNECTIONS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      dedupTtlSeconds: e.DEDUP_TTL_SECONDS,
      deadLetterMaxBytes: e.DEAD_LETTER_MAX_BYTES,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      logLevel: e.LOG_LEVEL,
      serviceName: e.OTEL_SERVICE_NAME,
      metricLabelMaxValues: e.METRIC_LABEL_MAX_VALUES,
      metricsExporters,
      otlpTargets: { traces: otlpTarget(e, 'TRACES'), metrics: otlpTarget(e, 'METRICS') },
      otlpMetrics: metricsExporters.includes('otlp')
        ? {
            protocol: e.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
            intervalMs: e.OTEL_METRIC_EXPORT_INTERVAL,
          }
        : undefined,
      traces:
        e.OTEL_TRACES_EXPORTER === 'none'
          ? undefined
          : {
              protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
              queueMaxSpans: e.TRACE_QUEUE_MAX_SPANS,
              giveUpAfterMs: e.TRACE_EXPORT_GIVE_UP_SECONDS * 1000,
              retryInitialMs: e.TRACE_EXPORT_RETRY_INITIAL_MS,
            },
      callIdleTimeoutMs: e.CALL_IDLE_TIMEOUT_SECONDS * 1000,
      maxPendingCalls: e.MAX_PENDING_CALLS,
      exposePii: e.EXPOSE_PII,
    },
  };
}

type ParsedEnv = z.output<typeof envSchema>;

/**
 * Where the OTLP/HTTP exporter of one signal posts, as @opentelemetry/otlp-exporter-base reads it: the
 * signal's own endpoint as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/<signal>, else localhost:4318.
 */
function otlpTarget(e: ParsedEnv, signal: 'TRACES' | 'METRICS'): OtlpTarget {
  const path = signal === 'TRACES' ? 'v1/traces' : 'v1/metrics';
  const own = signal === 'TRACES' ? e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT : e.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint =
    own !== undefined
      ? new URL(own).toString()
      : base !== undefined
        ? `${base.endsWith('/') ? base : `${base}/`}${path}`
        : `http://localhost:4318/${path}`;
  const headers = signal === 'TRACES' ? e.OTEL_EXPORTER_OTLP_TRACES_HEADERS : e.OTEL_EXPORTER_OTLP_METRICS_HEADERS;
  const timeout = signal === 'TRACES' ? e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT : e.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT;
  const compression =
    signal === 'TRACES' ? e.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION : e.OTEL_EXPORTER_OTLP_METRICS_COMPRESSION;
  return {
    endpoint: maskUrl(endpoint),
    headerNames: [...new Set([...headerNames(e.OTEL_EXPORTER_OTLP_HEADERS), ...headerNames(headers)])],
    timeoutMs: positiveNumber(timeout) ?? positiveNumber(e.OTEL_EXPORTER_OTLP_TIMEOUT) ?? 10_000,
    compression: [compression, e.OTEL_EXPORTER_OTLP_COMPRESSION].map((c) => c?.trim()).find(isCompression) ?? 'none',
  };
}

function isCompression(c: string | undefined): c is 'gzip' | 'none' {
  return c === 'gzip' || c === 'none';
}

/** The SDK ignores a timeout that is not a number above 0 (it logs a diag warning): so do we. */
function positiveNumber(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** `k1=v1,k2=v2` (W3C baggage style, as the SDK parses OTEL_EXPORTER_OTLP_HEADERS) -> the names alone. */
function headerNames(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const names: string[] = [];
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '') continue;
    try {
      names.push(decodeURIComponent(name));
    } catch {
      names.push(name);
    }
  }
  return names;
}

/** STORE_URL -> where state lives, or a problem (never echoing the URL: it may hold a password). */
function storeSetting(url: string | undefined, keyPrefix: string): StoreSetting | string {
  if (url === undefined || url === '') return { kind: 'embedded' };
  if (url === 'memory:') return { kind: 'memory' };
  if (/^rediss?:\/\//i.test(url)) {
    if (!URL.canParse(url)) return 'not a valid redis:// URL';
    const u = new URL(url);
    if (u.hostname === '') return 'a redis:// URL needs a host (redis://[user:password@]host:port[/db])';
    if (!/^(\/\d{0,5})?$/.test(u.pathname)) return 'the path of a redis:// URL is the database number (/0, /1, ...)';
    return { kind: 'redis', url, keyPrefix };
  }
  return 'must be unset (embedded store in DATA_DIR), memory:, redis:// or rediss://';
}

/** A store URL fit for logs: the password (and user) replaced by ***. */
export function maskStoreUrl(url: string): string {
  return URL.canParse(url) ? maskUserinfo(url) : '(unparsable URL)';
}

function describeStore(c: Config): string {
  switch (c.store.kind) {
    case 'embedded':
      return `embedded SQLite in ${c.dataDir} (sync ${c.storeSync})`;
    case 'memory':
      return 'memory';
    case 'redis':
      return `shared ${maskStoreUrl(c.store.url)} (key prefix ${c.store.keyPrefix})`;
  }
}

/** Basic-auth credentials embedded in the sink URL (https://user:pass@host/events), as Twilio sends them. */
function userinfo(url: string): { user: string; password: string } | undefined {
  const u = new URL(url);
  if (u.username === '') return undefined;
  return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

/** What `check-config` and the start-up log show: the effective settings with secrets masked. */
export function describeConfig(c: Config): Record<string, string | number | boolean> {
  return {
    port: c.port,
    host: c.host,
    metricsPort: c.metricsPort,
    metricsHost: c.metricsHost,
    webhookPath: c.webhookPath,
    authTokens: `${c.authTokens.length} configured`,
    publicUrl: c.publicUrl === undefined ? '(rebuilt from each request)' : maskUserinfo(c.publicUrl),
    trustProxy: c.trustProxy,
    basicAuth: c.basicAuth === undefined ? 'off' : 'on',
    insecureAcceptUnsigned: c.insecureAcceptUnsigned,
    dataDir: c.dataDir,
    store: describeStore(c),
    storeMaxBytes: c.storeMaxBytes,
    maxBodyBytes: c.maxBodyBytes,
    maxEventsPerRequest: c.maxEventsPerRequest,
    maxConnections: c.maxConnections,
    headersTimeoutMs: c.headersTimeoutMs,
    requestTimeoutMs: c.requestTimeoutMs,
    dedupTtlSeconds: c.dedupTtlSeconds,
    deadLetterMaxBytes: c.deadLetterMaxBytes,
    logLevel: c.logLevel,
    serviceName: c.serviceName,
    metricLabelMaxValues: c.metricLabelMaxValues,
    shutdownTimeoutMs: c.shutdownTimeoutMs,
    metricsExporters: c.metricsExporters.join(','),
    otlpMetrics: c.otlpMetrics === undefined ? 'off' : `${c.otlpMetrics.protocol} every ${c.otlpMetrics.intervalMs} ms`,
    ...(c.otlpMetrics === undefined ? {} : describeTarget('otlpMetrics', c.otlpTargets.metrics)),
    traces: c.traces === undefined ? 'off (OTEL_TRACES_EXPORTER=none)' : `otlp ${c.traces.protocol}`,
    ...(c.traces === undefined
      ? {}
      : {
          ...describeTarget('traces', c.otlpTargets.traces),
          traceQueueMaxSpans: c.traces.queueMaxSpans,
          traceExportGiveUpSeconds: c.traces.giveUpAfterMs / 1000,
          traceExportRetryInitialMs: c.traces.retryInitialMs,
        }),
    callIdleTimeoutMs: c.callIdleTimeoutMs,
    maxPendingCalls: c.maxPendingCalls,
    exposePii: c.exposePii,
  };
}

function describeTarget(prefix: string, t: OtlpTarget): Record<string, string | number> {
  return {
    [`${prefix}Endpoint`]: t.endpoint,
    [`${prefix}Headers`]: t.headerNames.length === 0 ? '(none)' : t.headerNames.map((n) => `${n}=***`).join(', '),
    [`${prefix}TimeoutMs`]: t.timeoutMs,
    [`${prefix}Compression`]: t.compression,
  };
}

export interface ConfigAdvice {
  /** The exporter starts but cannot do its job: check-config fails on these (exit 2). */
  problems: string[];
  /** Worth knowing; check-config still passes. */
  warnings: string[];
}

/** What a valid configuration still gets wrong: told by check-config, and logged as warnings by serve. */
export function adviseConfig(c: Config): ConfigAdvice {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (c.insecureAcceptUnsigned) {
    warnings.push(
      'INSECURE_ACCEPT_UNSIGNED=true: the webhook accepts UNSIGNED requests from anyone. Development only; never expose this port.',
    );
  } else {
    if (c.authTokens.length === 0) {
      problems.push(
        'TWILIO_AUTH_TOKEN is not set: every delivery will be answered 503 (Twilio keeps retrying) until it is. Set it to the auth token of the account (comma separated for rotation or subaccounts).',
      );
    }
    if (c.publicUrl === undefined) {
      warnings.push(
        `PUBLIC_URL is not set: the signed URL is rebuilt from each request (its Host header${c.trustProxy ? ' or X-Forwarded-Proto/Host' : ''} and path). Behind a proxy or load balancer set PUBLIC_URL to the sink destination exactly as configured in Twilio.`,
      );
    }
  }
  if (c.store.kind === 'memory') {
    warnings.push('STORE_URL=memory: state and the span outbox live in process memory; a restart loses them.');
  }
  return { problems, warnings };
}

/** A URL fit for display: user info and query values replaced by ***. */
function maskUrl(url: string): string {
  const u = new URL(maskUserinfo(url));
  for (const key of [...new Set(u.searchParams.keys())]) u.searchParams.set(key, '***');
  return u.toString();
}

function maskUserinfo(url: string): string {
  const u = new URL(url);
  // redis://:password@host has a password and no user name: mask each part that is there.
  if (u.username !== '') u.username = '***';
  if (u.password !== '') u.password = '***';
  return u.toString();
}
