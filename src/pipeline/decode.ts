// Raw body bytes -> the list of candidate CloudEvents. Twilio sends a JSON array (one event today,
// iterate anyway: https://www.twilio.com/docs/events/webhook-quickstart); a single object is accepted too.
import { ExporterError } from '../errors.js';

export function decodeBody(raw: Buffer): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ExporterError('bad_request', 'body is not valid JSON', 'invalid_json');
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0)
      throw new ExporterError('bad_request', 'body is an empty array: no CloudEvents', 'no_cloudevents');
    return parsed;
  }
  if (typeof parsed === 'object' && parsed !== null) return [parsed];
  throw new ExporterError(
    'bad_request',
    'body must be a JSON array of CloudEvents or one CloudEvent object',
    'not_cloudevents',
  );
}
