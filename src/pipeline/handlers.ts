// Handlers that belong to the pipeline itself rather than to a telemetry stage.
import type { Logger } from '../logger.js';
import type { EventHandlers } from './dispatch.js';

const ignore = (): void => undefined;

/** Logs Twilio's sink test event, whose test_id the operator confirms with POST /v1/Sinks/{Sid}/Validate. */
export function sinkTestLogger(logger: Logger): EventHandlers {
  return {
    onCallMetric: ignore,
    onCallEvent: ignore,
    onCallSummary: ignore,
    onConferenceSummary: ignore,
    onParticipantSummary: ignore,
    onSinkTest: (record, meta) =>
      logger.info(
        { id: meta.info.id, testId: record.testId },
        'Twilio sink test event received: confirm it with `twilio api:events:v1:sinks:validate:create --sid DGxxx --test-id <testId>`',
      ),
  };
}
