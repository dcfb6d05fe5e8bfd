// The set-up the e2e tests share: a RestartableExporter signed with a test token whose traces go to an
// OtlpReceiver, and a receiver whose answer can be switched (a trace backend outage).
import { startOtlpReceiver, type OtlpReceiver, type OtlpReceiverOptions } from './otlp-receiver.js';
import { RestartableExporter } from './restartable.js';

/** What a test disposes of in afterAll, last first (see runCleanups). */
export type Cleanups = (() => Promise<void>)[];

export async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

/**
 * Export settings under which one export attempt gives up quickly (the transport's own retries fit in
 * its timeout), so the shipper's backoff is what paces the retries.
 */
export const QUICK_EXPORT_RETRIES: Readonly<Record<string, string>> = {
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '3000',
  TRACE_EXPORT_RETRY_INITIAL_MS: '200',
};

/**
 * An exporter (not started) with TWILIO_AUTH_TOKEN `token`, LOG_LEVEL warn and its traces sent to
 * `receiver` over OTLP/HTTP, `env` on top. Disposed of with `cleanups` when given.
 */
export async function tracingExporter(
  token: string,
  receiver: OtlpReceiver,
  env: Record<string, string>,
  cleanups?: Cleanups,
): Promise<RestartableExporter> {
  const exporter = await RestartableExporter.create({
    env: {
      TWILIO_AUTH_TOKEN: token,
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      ...env,
    },
  });
  cleanups?.push(() => exporter.dispose());
  return exporter;
}

export interface SwitchableReceiver {
  receiver: OtlpReceiver;
  setStatus: (status: number) => void;
}

/**
 * A receiver whose answer can be switched: the receiver reads `status` from its options object on every
 * request, so changing it turns the backend down (503) or up (200) without a restart. Closed with `cleanups`.
 */
export async function switchableReceiver(status: number, cleanups: Cleanups): Promise<SwitchableReceiver> {
  const opts: OtlpReceiverOptions = { status };
  const receiver = await startOtlpReceiver(opts);
  cleanups.push(() => receiver.close());
  return {
    receiver,
    setStatus: (s) => {
      opts.status = s;
    },
  };
}
