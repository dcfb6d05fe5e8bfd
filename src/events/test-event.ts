// `com.twilio.eventstreams.test-event` (schema EventStreams.TestSink/1): sent by
// POST /v1/Sinks/{Sid}/Test; the receiver only has to accept and ack it (reference §1.2, KQ example
// where data is the string "{\"test_id\":\"<uuid>\"}"). The envelope already decoded a string `data`.
import { z } from 'zod';
import type { Converter } from './family.js';
import type { SinkTestRecord } from './types.js';
import { optString, toFieldIssues } from './fields.js';

export const sinkTestDataSchema = z.object({ test_id: optString }).nullish();

export const convertSinkTest: Converter<SinkTestRecord> = (envelope) => {
  const parsed = sinkTestDataSchema.safeParse(envelope.data);
  if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
  return { ok: true, value: { kind: 'sink-test', testId: parsed.data?.test_id } };
};
