// `simulate` command-line options -> SimulateOptions, validated with zod; every problem is reported
// at once. Token and public URL default to the exporter's own TWILIO_AUTH_TOKEN / PUBLIC_URL, the
// target to the local exporter's webhook, http://localhost:${PORT}${WEBHOOK_PATH}: the URL the README
// gives the exporter as PUBLIC_URL, and the one an exporter without PUBLIC_URL rebuilds from the
// request (Host: localhost:PORT), so the signature verifies either way. The signature covers the
// public URL, which defaults to the target when neither --public-url nor PUBLIC_URL is given.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_CONFERENCE_SHARE, type SimulateOptions } from './simulate.js';

/** What commander hands over: every option as given on the command line (strings), or absent. */
export type RawSimulateOptions = Partial<
  Record<
    | 'target'
    | 'duration'
    | 'token'
    | 'publicUrl'
    | 'rate'
    | 'badShare'
    | 'speed'
    | 'seed'
    | 'duplicateShare'
    | 'outOfOrderShare'
    | 'conferenceShare'
    | 'concurrency'
    | 'maxWait'
    | 'report',
    unknown
  >
>;

/** [flags, description] for commander; main.ts registers them. */
export const SIMULATE_FLAGS: readonly (readonly [string, string])[] = [
  [
    '--target <url>',
    'where to POST (default: the local exporter, http://localhost:${PORT:-8080}${WEBHOOK_PATH:-/events})',
  ],
  ['--duration <seconds>', 'wall-clock seconds during which new calls start (required)'],
  ['--token <token>', 'auth token to sign with (default: TWILIO_AUTH_TOKEN, its first entry)'],
  [
    '--public-url <url>',
    "URL the signature covers: the exporter's PUBLIC_URL, the sink destination as configured in Twilio (default: PUBLIC_URL, else --target)",
  ],
  [
    '--rate <calls_per_s>',
    "new calls per second of wall time; a conference's agent and other legs come on top (default 1)",
  ],
  ['--bad-share <ratio>', 'share of calls with a quality problem or failure, 0..1 (default 0.2)'],
  ['--speed <factor>', 'time compression >= 1: calls and Twilio delays take 1/factor of real time (default 1)'],
  ['--seed <n>', 'random seed, 0..4294967295, for a reproducible run (default: random, printed in the report)'],
  ['--duplicate-share <ratio>', 'share of events delivered twice with the same id, 0..1 (default 0.02)'],
  ['--out-of-order-share <ratio>', 'share of events held back to arrive out of order, 0..1 (default 0.05)'],
  [
    '--conference-share <ratio>',
    `share of new calls that become conferences of 2-4 legs (customer, agent, sometimes a supervisor who coaches and a third party), each leg a call of its own, 0..1 (default ${DEFAULT_CONFERENCE_SHARE})`,
  ],
  ['--concurrency <n>', 'requests in flight at most (default 32)'],
  [
    '--max-wait <seconds>',
    'after the last call starts, wait at most this long for scheduled deliveries (default: until all are sent)',
  ],
  ['--report <file>', 'also write the JSON report to this file'],
];

/** A number given as a command-line string ("" is not zero). */
const number = (what: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? Number.NaN : Number(v)) : v),
    z.number({ message: `must be ${what}` }).refine(Number.isFinite, `must be ${what}`),
  );
const ratio = (fallback: number) =>
  number('a number from 0 to 1')
    .pipe(z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1'))
    .default(fallback);
const httpUrl = z
  .string()
  .trim()
  .refine((v) => /^https?:\/\/[^/]/i.test(v) && URL.canParse(v), 'must be an absolute http(s) URL');

const schema = z.object({
  target: httpUrl,
  duration: number('a number of seconds').pipe(
    z
      .number()
      .positive('must be above 0')
      .max(31 * 24 * 3600, 'must be at most 31 days'),
  ),
  token: z.string().min(1, 'is required: pass --token or set TWILIO_AUTH_TOKEN'),
  publicUrl: httpUrl,
  rate: number('a number of calls per second')
    .pipe(z.number().positive('must be above 0').max(10_000, 'must be at most 10000'))
    .default(1),
  badShare: ratio(0.2),
  speed: number('a number')
    .pipe(z.number().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'))
    .default(1),
  seed: number('an integer from 0 to 4294967295')
    .pipe(z.number().int('must be an integer').min(0).max(0xffffffff, 'must be at most 4294967295'))
    .optional(),
  duplicateShare: ratio(0.02),
  outOfOrderShare: ratio(0.05),
  conferenceShare: ratio(DEFAULT_CONFERENCE_SHARE),
  concurrency: number('an integer')
    .pipe(z.number().int('must be an integer').min(1, 'must be at least 1').max(1024, 'must be at most 1024'))
    .default(32),
  maxWait: number('a number of seconds').pipe(z.number().min(0, 'must be 0 or more')).optional(),
  report: z.string().min(1, 'must be a file name').optional(),
});

const FLAG_OF: Readonly<Record<string, string>> = {
  publicUrl: '--public-url',
  badShare: '--bad-share',
  duplicateShare: '--duplicate-share',
  outOfOrderShare: '--out-of-order-share',
  conferenceShare: '--conference-share',
  maxWait: '--max-wait',
};

/** Where the signed (public) URL came from: --public-url, PUBLIC_URL, or the target. */
export type PublicUrlSource = '--public-url' | 'PUBLIC_URL' | '--target';

export type ParsedSimulateOptions =
  | { ok: true; options: SimulateOptions; reportFile: string | undefined; publicUrlFrom: PublicUrlSource }
  | { ok: false; problems: string[] };

/** Options from the command line over defaults from `env`; problems name the flag, never a secret's value. */
export function parseSimulateOptions(
  raw: RawSimulateOptions,
  env: Record<string, string | undefined>,
): ParsedSimulateOptions {
  const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  const defaultTarget = `http://localhost:${nonEmpty(env['PORT']) ?? '8080'}${nonEmpty(env['WEBHOOK_PATH']) ?? '/events'}`;
  const target = raw.target ?? defaultTarget;
  const input = {
    ...raw,
    target,
    token: raw.token ?? nonEmpty(env['TWILIO_AUTH_TOKEN']?.split(',')[0]) ?? '',
    publicUrl: raw.publicUrl ?? nonEmpty(env['PUBLIC_URL']) ?? target,
  };
  const publicUrlFrom: PublicUrlSource =
    raw.publicUrl !== undefined
      ? '--public-url'
      : nonEmpty(env['PUBLIC_URL']) !== undefined
        ? 'PUBLIC_URL'
        : '--target';
  const publicUrlIsTarget = publicUrlFrom === '--target';
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      // A public URL that defaulted to the target would only repeat the target's problem.
      problems: parsed.error.issues
        .filter((issue) => !(publicUrlIsTarget && issue.path[0] === 'publicUrl'))
        .map((issue) => {
          const key = String(issue.path[0] ?? '');
          const given = (input as Record<string, unknown>)[key];
          const message = given === undefined && key !== 'token' ? 'is required' : issue.message;
          return `${FLAG_OF[key] ?? `--${key}`}: ${message}`;
        }),
    };
  }
  const o = parsed.data;
  return {
    ok: true,
    reportFile: o.report,
    publicUrlFrom,
    options: {
      target: o.target,
      token: o.token,
      publicUrl: o.publicUrl,
      durationSeconds: o.duration,
      rate: o.rate,
      badShare: o.badShare,
      speed: o.speed,
      seed: o.seed ?? randomInt(0, 0xffffffff),
      duplicateShare: o.duplicateShare,
      outOfOrderShare: o.outOfOrderShare,
      conferenceShare: o.conferenceShare,
      concurrency: o.concurrency,
      ...(o.maxWait === undefined ? {} : { maxWaitSeconds: o.maxWait }),
    },
  };
}
