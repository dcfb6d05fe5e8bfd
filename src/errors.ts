// Typed errors raised anywhere in the flow. Only http/errors.ts turns a kind into a status code, so
// the rule "transient trouble is 5xx, never 4xx" (Twilio drops an event for good on any 4xx:
// https://www.twilio.com/docs/api/errors/91305) lives in one place.
export type ErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  /** The client was too slow sending its request: node already answered 408 and closed the connection. */
  | 'request_timeout'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_ready';

export class ExporterError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Machine-readable detail for the response and self-metrics, e.g. a signature failure reason. */
    readonly code: string = kind,
  ) {
    super(message);
    this.name = 'ExporterError';
  }
}
