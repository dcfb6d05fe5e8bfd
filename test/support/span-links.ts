// Finding spans and following span links in what the OTLP test receiver got (conference traces).
import assert from './assert.js';
import type { OtlpSpan, OtlpSpanLink } from './otlp-receiver.js';

/** The one span `pick` selects; fails the test when there are none or several. */
export function oneSpan(spans: readonly OtlpSpan[], what: string, pick: (s: OtlpSpan) => boolean): OtlpSpan {
  const found = spans.filter(pick);
  assert.equal(found.length, 1, `exactly one ${what}, got ${found.length}`);
  const [span] = found;
  assert.ok(span !== undefined);
  return span;
}

/** The link names exactly this span (trace id and span id). */
export function pointsAt(link: OtlpSpanLink | undefined, target: OtlpSpan | undefined): boolean {
  return link !== undefined && target !== undefined && link.traceId === target.traceId && link.spanId === target.spanId;
}
