// A span as plain data: what the call stage decides, before telemetry/ turns it into OTLP.
export type AttrValue = string | number | boolean | string[] | number[];
export type Attrs = Record<string, AttrValue>;

export interface SpanEventData {
  name: string;
  /** Epoch ms. */
  timeMs: number;
  attributes: Attrs;
}

/** A link to a span in another trace (a conference leg's call trace, and back). */
export interface SpanLinkData {
  traceId: string;
  spanId: string;
  attributes: Attrs;
}

export interface SpanData {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  startMs: number;
  endMs: number;
  attributes: Attrs;
  events: SpanEventData[];
  droppedEvents: number;
  /** Absent in spans written to the outbox before links existed. */
  links?: SpanLinkData[];
  status: { code: 'unset' | 'ok' | 'error'; message: string | undefined };
}
