// The shape every Twilio event family module follows: a zod schema at the edge and a pure
// conversion from a validated CloudEvent to plain data (./types.ts). Errors name field paths only,
// never payload values, because they end up in logs and the dead-letter file's reason.
import type { EnvelopeInfo } from './types.js';

/** One schema problem: a dotted path into the CloudEvent ("data.sdk_edge.interval.jitter") and what is wrong. */
export interface FieldIssue {
  path: string;
  message: string;
}

export type ConvertResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/** A CloudEvent whose envelope passed validation; `data` is already decoded if Twilio sent it as a JSON string. */
export interface Envelope {
  info: EnvelopeInfo;
  data: unknown;
  /**
   * Set when `data` is present but neither an object nor a JSON string of one (an array, a number, bad
   * JSON); `data` is then undefined. The event still has a usable `id` and `type`, so this is the
   * family schema's failure (the event is dead-lettered, the delivery answered 2xx), not the envelope's.
   */
  dataIssue?: FieldIssue | undefined;
}

/** A family's converter: envelope in, plain record out. Pure: no clock, no I/O. */
export type Converter<T> = (envelope: Envelope) => ConvertResult<T>;
