// Raw body bytes -> the list of candidate CloudEvents. Twilio sends a JSON array (one event today,
// iterate anyway: https://www.twilio.com/docs/events/webhook-quickstart); a single object is accepted too.
// The element count is capped (MAX_EVENTS_PER_REQUEST) before any per-element work: one signed 1 MiB
// body holds ~350k `{}`, and walking them all stalls the event loop for seconds.
import { ExporterError } from '../errors.js';

export function decodeBody(raw: Buffer, maxEvents: number): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ExporterError('bad_request', 'body is not valid JSON', 'invalid_json');
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0)
      throw new ExporterError('bad_request', 'body is an empty array: no CloudEvents', 'no_cloudevents');
    if (parsed.length > maxEvents) {
      throw new ExporterError(
        'payload_too_large',
        `body holds ${parsed.length} elements; at most MAX_EVENTS_PER_REQUEST (${maxEvents}) are accepted per request`,
        'too_many_events',
      );
    }
    return parsed;
  }
  if (typeof parsed === 'object' && parsed !== null) return [parsed];
  throw new ExporterError(
    'bad_request',
    'body must be a JSON array of CloudEvents or one CloudEvent object',
    'not_cloudevents',
  );
}
