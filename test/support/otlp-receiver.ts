// A small OTLP/HTTP receiver for tests, standing in for an OpenTelemetry Collector on 127.0.0.1.
//
// It accepts POST /v1/traces and /v1/metrics as `application/x-protobuf` or `application/json`
// (optionally `Content-Encoding: gzip` or `deflate`), decodes them as a collector would, and
// normalises BOTH encodings into one plain model, so a test never cares which one the exporter used.
// Spec: https://opentelemetry.io/docs/specs/otlp/#otlphttp
//
// Why a protobuf decoder of our own: @opentelemetry/otlp-transformer 0.223.0 no longer ships the
// protobufjs-generated `build/src/generated/root.js` (it now serialises with a hand-written writer and
// protobufjs is not installed), so this file reads the protobuf wire format directly
// (https://protobuf.dev/programming-guides/encoding/), keyed on the field numbers of
// opentelemetry-proto v1 (common, resource, trace, metrics). Being independent of the exporters'
// encoder is a feature: a bug in their writer cannot hide behind the same bug in our reader.
//
// One schema walker serves both encodings: each OTLP message is read through the `OtlpNode`
// interface, implemented once over protobuf wire fields and once over parsed OTLP JSON.
//
// Normalisation rules (identical for both encodings):
// - trace/span ids: lowercase hex (32 / 16 digits). Protobuf bytes are hex-encoded; JSON ids are
//   already hex (not base64, unlike other bytes fields) and are validated and lowercased. An
//   empty or absent parentSpanId becomes `undefined`. Ids of the wrong length are rejected (400),
//   as the collector rejects them.
// - timestamps (fixed64 nanoseconds, ~1.7e18 today, beyond 2^53): always `bigint`.
// - int64 attribute values (AnyValue.int_value): `number` when Number.isSafeInteger, else `bigint`.
// - counts, bucket counts and integer data point values (NumberDataPoint.as_int): `number`; a value
//   beyond Number.MAX_SAFE_INTEGER is rejected with 400 rather than silently rounded. Our exporter
//   never produces such values, and a clear failure beats a wrong assertion.
// - doubles: `number`; in JSON also the strings "NaN", "Infinity", "-Infinity" (proto3 JSON mapping).
// - proto3 defaults: absent strings are '' (name, unit, description), absent enums 0, absent times
//   0n; scope.version and status.message use `undefined` for ''/absent. Optional fields of the model
//   (sum, min, max, value, ...) are present only when the message carried them.
// - attribute keys that repeat (the spec says they MUST NOT) resolve to the last value.
// - exponential histograms and summaries are accepted but not flattened: the project emits neither.

import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';

// ---------------------------------------------------------------------------------------------
// Public model
// ---------------------------------------------------------------------------------------------

/**
 * An attribute value. int64 becomes a number when safe, else a bigint; bytes a Uint8Array; an
 * empty AnyValue null; kvlist a nested record.
 */
export type AttrValue =
  string | number | bigint | boolean | Uint8Array | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

export interface OtlpScope {
  name: string;
  version: string | undefined;
}

export interface OtlpSpanEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
}

/** A span link (trace.proto Span.Link): the linked span's trace and span ids and the link's attributes. */
export interface OtlpSpanLink {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  attributes: Attributes;
}

export interface OtlpSpan {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** 16 lowercase hex digits, undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer (API kind + 1). */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: OtlpSpanEvent[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string | undefined };
  /** Links to other spans (https://opentelemetry.io/docs/concepts/signals/traces/#span-links), in the order sent. */
  links: OtlpSpanLink[];
  resource: Attributes;
  scope: OtlpScope;
}

export interface OtlpMetricPoint {
  name: string;
  unit: string;
  description: string;
  kind: 'sum' | 'gauge' | 'histogram';
  /** Sums only. */
  monotonic?: boolean;
  /** Sums and histograms; absent when the message says UNSPECIFIED. */
  temporality?: 'cumulative' | 'delta';
  attributes: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Sums and gauges. */
  value?: number;
  /** Sums and gauges: which oneof carried the value (as_int or as_double). */
  valueType?: 'int' | 'double';
  /** Histograms. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  resource: Attributes;
  scope: OtlpScope;
}

export type OtlpEncoding = 'protobuf' | 'json';

export interface OtlpRequestRecord {
  path: string;
  /** The Content-Type header as sent, parameters included. */
  contentType: string;
  encoding: OtlpEncoding;
  /** Lowercase header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The status this receiver answered. */
  status: number;
}

export interface OtlpReceiverError {
  path: string;
  status: number;
  message: string;
}

export interface OtlpReceiverOptions {
  /** Answer `failStatus` to the first N OTLP requests (to test exporter retries); their data is not kept. */
  failFirst?: number;
  /** Status of those first answers (default 503, which the OTLP exporters retry themselves; 500 they do not). */
  failStatus?: number;
  /** Send `Retry-After: <seconds>` with those 503s (the OTLP exporters honour it; 0 retries at once). */
  retryAfterSeconds?: number;
  /** Status for well-formed requests (default 200). Data is kept only when it is 2xx. */
  status?: number;
}

export interface OtlpReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT; exporters want `${url}/v1/traces` and `${url}/v1/metrics`. */
  readonly url: string;
  spans(): OtlpSpan[];
  metricPoints(): OtlpMetricPoint[];
  /** Requests that reached /v1/traces or /v1/metrics with an OTLP content type, in arrival order. */
  requests(): OtlpRequestRecord[];
  /** Requests refused as malformed: 400 (undecodable), 404, 405, 415, 500. */
  errors(): OtlpReceiverError[];
  /** Polls `pred` every 10 ms; rejects with a description of what arrived when it stays false. */
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  /** Forgets everything received; the failFirst budget already spent stays spent. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Schema: opentelemetry-proto v1 field numbers, with their lowerCamelCase OTLP/JSON names
// ---------------------------------------------------------------------------------------------

type ProtoType =
  | 'string'
  | 'bytes'
  | 'bool'
  | 'enum'
  | 'int64'
  | 'uint64'
  | 'fixed64'
  | 'sfixed64'
  | 'double'
  | 'message'
  | 'traceId'
  | 'spanId';

interface Field {
  readonly no: number;
  /** lowerCamelCase, as OTLP/JSON requires; the snake_case proto name is accepted too, like the collector. */
  readonly name: string;
  readonly type: ProtoType;
  /** Enum value names by number, for JSON senders that use names instead of numbers. */
  readonly enumNames?: readonly string[];
}

function field(no: number, name: string, type: ProtoType, enumNames?: readonly string[]): Field {
  return enumNames === undefined ? { no, name, type } : { no, name, type, enumNames };
}

const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const TEMPORALITIES = [
  'AGGREGATION_TEMPORALITY_UNSPECIFIED',
  'AGGREGATION_TEMPORALITY_DELTA',
  'AGGREGATION_TEMPORALITY_CUMULATIVE',
];

// common.proto, resource.proto
const ANY_VALUE = {
  string: field(1, 'stringValue', 'string'),
  bool: field(2, 'boolValue', 'bool'),
  int: field(3, 'intValue', 'int64'),
  double: field(4, 'doubleValue', 'double'),
  array: field(5, 'arrayValue', 'message'),
  kvlist: field(6, 'kvlistValue', 'message'),
  bytes: field(7, 'bytesValue', 'bytes'),
} as const;
const LIST_VALUES = field(1, 'values', 'message'); // ArrayValue.values and KeyValueList.values
const KEY_VALUE = { key: field(1, 'key', 'string'), value: field(2, 'value', 'message') } as const;
const SCOPE = { name: field(1, 'name', 'string'), version: field(2, 'version', 'string') } as const;
const RESOURCE = { attributes: field(1, 'attributes', 'message') } as const;

// trace.proto, trace_service.proto
const TRACE_REQUEST = { resourceSpans: field(1, 'resourceSpans', 'message') } as const;
const RESOURCE_SPANS = {
  resource: field(1, 'resource', 'message'),
  scopeSpans: field(2, 'scopeSpans', 'message'),
} as const;
const SCOPE_SPANS = { scope: field(1, 'scope', 'message'), spans: field(2, 'spans', 'message') } as const;
const SPAN = {
  traceId: field(1, 'traceId', 'traceId'),
  spanId: field(2, 'spanId', 'spanId'),
  parentSpanId: field(4, 'parentSpanId', 'spanId'),
  name: field(5, 'name', 'string'),
  kind: field(6, 'kind', 'enum', SPAN_KINDS),
  startTimeUnixNano: field(7, 'startTimeUnixNano', 'fixed64'),
  endTimeUnixNano: field(8, 'endTimeUnixNano', 'fixed64'),
  attributes: field(9, 'attributes', 'message'),
  events: field(11, 'events', 'message'),
  links: field(13, 'links', 'message'),
  status: field(15, 'status', 'message'),
} as const;
const EVENT = {
  timeUnixNano: field(1, 'timeUnixNano', 'fixed64'),
  name: field(2, 'name', 'string'),
  attributes: field(3, 'attributes', 'message'),
} as const;
const LINK = {
  traceId: field(1, 'traceId', 'traceId'),
  spanId: field(2, 'spanId', 'spanId'),
  attributes: field(4, 'attributes', 'message'),
} as const;
const STATUS = { message: field(2, 'message', 'string'), code: field(3, 'code', 'enum', STATUS_CODES) } as const;

// metrics.proto, metrics_service.proto
const METRICS_REQUEST = { resourceMetrics: field(1, 'resourceMetrics', 'message') } as const;
const RESOURCE_METRICS = {
  resource: field(1, 'resource', 'message'),
  scopeMetrics: field(2, 'scopeMetrics', 'message'),
} as const;
const SCOPE_METRICS = { scope: field(1, 'scope', 'message'), metrics: field(2, 'metrics', 'message') } as const;
const METRIC = {
  name: field(1, 'name', 'string'),
  description: field(2, 'description', 'string'),
  unit: field(3, 'unit', 'string'),
  gauge: field(5, 'gauge', 'message'),
  sum: field(7, 'sum', 'message'),
  histogram: field(9, 'histogram', 'message'),
} as const;
const DATA = {
  dataPoints: field(1, 'dataPoints', 'message'),
  aggregationTemporality: field(2, 'aggregationTemporality', 'enum', TEMPORALITIES),
  isMonotonic: field(3, 'isMonotonic', 'bool'),
} as const;
const NUMBER_POINT = {
  startTimeUnixNano: field(2, 'startTimeUnixNano', 'fixed64'),
  timeUnixNano: field(3, 'timeUnixNano', 'fixed64'),
  asDouble: field(4, 'asDouble', 'double'),
  asInt: field(6, 'asInt', 'sfixed64'),
  attributes: field(7, 'attributes', 'message'),
} as const;
const HISTOGRAM_POINT = {
  startTimeUnixNano: field(2, 'startTimeUnixNano', 'fixed64'),
  timeUnixNano: field(3, 'timeUnixNano', 'fixed64'),
  count: field(4, 'count', 'fixed64'),
  sum: field(5, 'sum', 'double'),
  bucketCounts: field(6, 'bucketCounts', 'fixed64'),
  explicitBounds: field(7, 'explicitBounds', 'double'),
  attributes: field(9, 'attributes', 'message'),
  min: field(11, 'min', 'double'),
  max: field(12, 'max', 'double'),
} as const;

// ---------------------------------------------------------------------------------------------
// One reading interface over both encodings
// ---------------------------------------------------------------------------------------------

/** A malformed request body: answered 400 and recorded in errors(). */
class DecodeError extends Error {}

interface OtlpNode {
  has(f: Field): boolean;
  string(f: Field): string | undefined;
  bool(f: Field): boolean | undefined;
  enumValue(f: Field): number | undefined;
  /** int64, uint64, fixed64 and sfixed64 alike. */
  integer(f: Field): bigint | undefined;
  double(f: Field): number | undefined;
  bytes(f: Field): Uint8Array | undefined;
  /** traceId / spanId as lowercase hex; undefined when absent or empty. */
  id(f: Field): string | undefined;
  integers(f: Field): bigint[];
  doubles(f: Field): number[];
  message(f: Field): OtlpNode | undefined;
  messages(f: Field): OtlpNode[];
}

const ID_BYTES: Partial<Record<ProtoType, number>> = { traceId: 16, spanId: 8 };

// ---------------------------------------------------------------------------------------------
// Protobuf wire format
// ---------------------------------------------------------------------------------------------

type WireValue = { wire: 0; varint: bigint } | { wire: 1 | 2 | 5; bytes: Uint8Array };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Splits one message into its fields; unknown fields are kept and simply never asked for. */
function readWireFields(buf: Uint8Array, path: string): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let pos = 0;
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > buf.length) throw new DecodeError(`${path}: truncated message`);
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = take(1)[0] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new DecodeError(`${path}: varint longer than 10 bytes`);
  };
  while (pos < buf.length) {
    const tag = varint();
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (no === 0) throw new DecodeError(`${path}: field number 0`);
    let value: WireValue;
    if (wire === 0) value = { wire, varint: varint() };
    else if (wire === 1) value = { wire, bytes: take(8) };
    else if (wire === 2) value = { wire, bytes: take(Number(varint())) };
    else if (wire === 5) value = { wire, bytes: take(4) };
    else throw new DecodeError(`${path}: unsupported wire type ${wire} (groups are not used by OTLP)`);
    const list = fields.get(no) ?? [];
    list.push(value);
    fields.set(no, list);
  }
  return fields;
}

function wireTypeOf(type: ProtoType): 0 | 1 | 2 {
  if (type === 'bool' || type === 'enum' || type === 'int64' || type === 'uint64') return 0;
  if (type === 'fixed64' || type === 'sfixed64' || type === 'double') return 1;
  return 2;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

class ProtobufNode implements OtlpNode {
  private readonly fields: Map<number, WireValue[]>;

  constructor(
    buf: Uint8Array,
    private readonly path: string,
  ) {
    this.fields = readWireFields(buf, path);
  }

  has(f: Field): boolean {
    return this.fields.has(f.no);
  }

  /** proto3: for a repeated scalar occurrence of a singular field, the last one wins. */
  private last(f: Field): WireValue | undefined {
    const value = this.fields.get(f.no)?.at(-1);
    if (value !== undefined && value.wire !== wireTypeOf(f.type)) {
      throw new DecodeError(
        `${this.path}.${f.name}: wire type ${value.wire}, expected ${wireTypeOf(f.type)} for ${f.type}`,
      );
    }
    return value;
  }

  private varint(f: Field): bigint | undefined {
    const value = this.last(f);
    return value?.wire === 0 ? value.varint : undefined;
  }

  private payload(f: Field): Uint8Array | undefined {
    const value = this.last(f);
    return value === undefined || value.wire === 0 ? undefined : value.bytes;
  }

  string(f: Field): string | undefined {
    const bytes = this.payload(f);
    if (bytes === undefined) return undefined;
    try {
      return UTF8.decode(bytes);
    } catch {
      throw new DecodeError(`${this.path}.${f.name}: invalid UTF-8`);
    }
  }

  bool(f: Field): boolean | undefined {
    const v = this.varint(f);
    return v === undefined ? undefined : v !== 0n;
  }

  enumValue(f: Field): number | undefined {
    const v = this.varint(f);
    return v === undefined ? undefined : Number(BigInt.asIntN(32, v));
  }

  integer(f: Field): bigint | undefined {
    if (f.type === 'int64') {
      const v = this.varint(f);
      return v === undefined ? undefined : BigInt.asIntN(64, v);
    }
    if (f.type === 'uint64') return this.varint(f);
    const bytes = this.payload(f);
    if (bytes === undefined) return undefined;
    return f.type === 'sfixed64' ? view(bytes).getBigInt64(0, true) : view(bytes).getBigUint64(0, true);
  }

  double(f: Field): number | undefined {
    const bytes = this.payload(f);
    return bytes === undefined ? undefined : view(bytes).getFloat64(0, true);
  }

  bytes(f: Field): Uint8Array | undefined {
    return this.payload(f);
  }

  id(f: Field): string | undefined {
    const bytes = this.payload(f);
    if (bytes === undefined || bytes.length === 0) return undefined;
    const expected = ID_BYTES[f.type];
    if (bytes.length !== expected)
      throw new DecodeError(`${this.path}.${f.name}: ${bytes.length} bytes, expected ${expected}`);
    return hex(bytes);
  }

  /** Repeated 8-byte scalars: parsers must accept both packed (wire type 2) and unpacked (wire type 1). */
  private eightByteItems(f: Field): DataView[] {
    return (this.fields.get(f.no) ?? []).flatMap((value) => {
      if (value.wire === 1) return [view(value.bytes)];
      if (value.wire !== 2 || value.bytes.length % 8 !== 0) {
        throw new DecodeError(`${this.path}.${f.name}: malformed repeated ${f.type}`);
      }
      const items: DataView[] = [];
      for (let i = 0; i < value.bytes.length; i += 8) items.push(view(value.bytes.subarray(i, i + 8)));
      return items;
    });
  }

  integers(f: Field): bigint[] {
    return this.eightByteItems(f).map((v) =>
      f.type === 'sfixed64' ? v.getBigInt64(0, true) : v.getBigUint64(0, true),
    );
  }

  doubles(f: Field): number[] {
    return this.eightByteItems(f).map((v) => v.getFloat64(0, true));
  }

  /** proto3: several occurrences of a singular message merge, which is parsing their concatenation. */
  message(f: Field): OtlpNode | undefined {
    const parts = this.messagePayloads(f);
    return parts.length === 0 ? undefined : new ProtobufNode(Buffer.concat(parts), `${this.path}.${f.name}`);
  }

  messages(f: Field): OtlpNode[] {
    return this.messagePayloads(f).map((bytes, i) => new ProtobufNode(bytes, `${this.path}.${f.name}[${i}]`));
  }

  private messagePayloads(f: Field): Uint8Array[] {
    return (this.fields.get(f.no) ?? []).map((value) => {
      if (value.wire !== 2)
        throw new DecodeError(`${this.path}.${f.name}: wire type ${value.wire}, expected 2 for a message`);
      return value.bytes;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON: proto3 JSON mapping with the OTLP exceptions (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
// lowerCamelCase keys, trace/span ids as hex strings (not base64), enums as integers, and 64-bit
// integers as decimal strings or numbers.
// ---------------------------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

class JsonNode implements OtlpNode {
  constructor(
    private readonly obj: JsonObject,
    private readonly path: string,
  ) {}

  /** null means "default" in proto3 JSON, so it reads as absent. */
  private get(f: Field): unknown {
    return this.obj[f.name] ?? this.obj[snakeCase(f.name)] ?? undefined;
  }

  private fail(f: Field, expected: string, got: unknown): never {
    throw new DecodeError(`${this.path}.${f.name}: expected ${expected}, got ${JSON.stringify(got)}`);
  }

  has(f: Field): boolean {
    return this.get(f) !== undefined;
  }

  string(f: Field): string | undefined {
    const v = this.get(f);
    if (v === undefined || typeof v === 'string') return v;
    return this.fail(f, 'a string', v);
  }

  bool(f: Field): boolean | undefined {
    const v = this.get(f);
    if (v === undefined || typeof v === 'boolean') return v;
    return this.fail(f, 'a boolean', v);
  }

  enumValue(f: Field): number | undefined {
    const v = this.get(f);
    if (v === undefined || (typeof v === 'number' && Number.isInteger(v))) return v;
    const byName = typeof v === 'string' ? (f.enumNames ?? []).indexOf(v) : -1;
    return byName >= 0 ? byName : this.fail(f, 'an enum number', v);
  }

  private toInteger(f: Field, v: unknown): bigint {
    let n: bigint | undefined;
    if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
    else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = BigInt(v);
    const unsigned = f.type === 'uint64' || f.type === 'fixed64';
    if (n === undefined || n > (unsigned ? UINT64_MAX : -INT64_MIN - 1n) || n < (unsigned ? 0n : INT64_MIN)) {
      return this.fail(f, `a ${f.type} (decimal string or integer)`, v);
    }
    return n;
  }

  private toDouble(f: Field, v: unknown): number {
    if (typeof v === 'number') return v;
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
    return this.fail(f, 'a number', v);
  }

  integer(f: Field): bigint | undefined {
    const v = this.get(f);
    return v === undefined ? undefined : this.toInteger(f, v);
  }

  double(f: Field): number | undefined {
    const v = this.get(f);
    return v === undefined ? undefined : this.toDouble(f, v);
  }

  bytes(f: Field): Uint8Array | undefined {
    const v = this.get(f);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) return this.fail(f, 'base64', v);
    return new Uint8Array(Buffer.from(v, 'base64'));
  }

  id(f: Field): string | undefined {
    const v = this.get(f);
    if (v === undefined || v === '') return undefined;
    const digits = (ID_BYTES[f.type] ?? 0) * 2;
    if (typeof v !== 'string' || v.length !== digits || !/^[0-9a-fA-F]*$/.test(v))
      return this.fail(f, `${digits} hex digits`, v);
    return v.toLowerCase();
  }

  private array(f: Field): unknown[] {
    const v = this.get(f);
    if (v === undefined) return [];
    return Array.isArray(v) ? v : this.fail(f, 'an array', v);
  }

  integers(f: Field): bigint[] {
    return this.array(f).map((v) => this.toInteger(f, v));
  }

  doubles(f: Field): number[] {
    return this.array(f).map((v) => this.toDouble(f, v));
  }

  message(f: Field): OtlpNode | undefined {
    const v = this.get(f);
    if (v === undefined) return undefined;
    return isJsonObject(v) ? new JsonNode(v, `${this.path}.${f.name}`) : this.fail(f, 'an object', v);
  }

  messages(f: Field): OtlpNode[] {
    return this.array(f).map((v, i) => {
      if (!isJsonObject(v)) return this.fail(f, 'an array of objects', v);
      return new JsonNode(v, `${this.path}.${f.name}[${i}]`);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation into the public model (one walker for both encodings)
// ---------------------------------------------------------------------------------------------

function attrValue(node: OtlpNode | undefined): AttrValue {
  if (node === undefined) return null;
  if (node.has(ANY_VALUE.string)) return node.string(ANY_VALUE.string) ?? '';
  if (node.has(ANY_VALUE.bool)) return node.bool(ANY_VALUE.bool) ?? false;
  if (node.has(ANY_VALUE.int)) return int64ToAttr(node.integer(ANY_VALUE.int) ?? 0n);
  if (node.has(ANY_VALUE.double)) return node.double(ANY_VALUE.double) ?? 0;
  if (node.has(ANY_VALUE.array)) return (node.message(ANY_VALUE.array)?.messages(LIST_VALUES) ?? []).map(attrValue);
  if (node.has(ANY_VALUE.kvlist)) return attributes(node.message(ANY_VALUE.kvlist), LIST_VALUES);
  if (node.has(ANY_VALUE.bytes)) return node.bytes(ANY_VALUE.bytes) ?? new Uint8Array();
  return null; // an empty AnyValue is how OTLP says "null"
}

function int64ToAttr(n: bigint): number | bigint {
  const asNumber = Number(n);
  return Number.isSafeInteger(asNumber) ? asNumber : n;
}

/** A repeated KeyValue field as a record. */
function attributes(node: OtlpNode | undefined, f: Field): Attributes {
  const out: Attributes = {};
  for (const kv of node?.messages(f) ?? [])
    out[kv.string(KEY_VALUE.key) ?? ''] = attrValue(kv.message(KEY_VALUE.value));
  return out;
}

function safeNumber(n: bigint, what: string): number {
  const asNumber = Number(n);
  if (!Number.isSafeInteger(asNumber)) throw new DecodeError(`${what}: ${n} exceeds Number.MAX_SAFE_INTEGER`);
  return asNumber;
}

function scopeOf(node: OtlpNode | undefined): OtlpScope {
  const version = node?.string(SCOPE.version);
  return { name: node?.string(SCOPE.name) ?? '', version: version === '' ? undefined : version };
}

function decodeSpans(request: OtlpNode): OtlpSpan[] {
  return request.messages(TRACE_REQUEST.resourceSpans).flatMap((rs) => {
    const resource = attributes(rs.message(RESOURCE_SPANS.resource), RESOURCE.attributes);
    return rs.messages(RESOURCE_SPANS.scopeSpans).flatMap((ss) => {
      const scope = scopeOf(ss.message(SCOPE_SPANS.scope));
      return ss.messages(SCOPE_SPANS.spans).map((span) => decodeSpan(span, resource, scope));
    });
  });
}

function decodeSpan(span: OtlpNode, resource: Attributes, scope: OtlpScope): OtlpSpan {
  const traceId = span.id(SPAN.traceId);
  const spanId = span.id(SPAN.spanId);
  // The collector refuses spans without ids; so do we, rather than invent them.
  if (traceId === undefined || spanId === undefined) throw new DecodeError('span without traceId or spanId');
  const status = span.message(SPAN.status);
  const statusMessage = status?.string(STATUS.message);
  return {
    traceId,
    spanId,
    parentSpanId: span.id(SPAN.parentSpanId),
    name: span.string(SPAN.name) ?? '',
    kind: span.enumValue(SPAN.kind) ?? 0,
    startTimeUnixNano: span.integer(SPAN.startTimeUnixNano) ?? 0n,
    endTimeUnixNano: span.integer(SPAN.endTimeUnixNano) ?? 0n,
    attributes: attributes(span, SPAN.attributes),
    events: span.messages(SPAN.events).map((event) => ({
      name: event.string(EVENT.name) ?? '',
      timeUnixNano: event.integer(EVENT.timeUnixNano) ?? 0n,
      attributes: attributes(event, EVENT.attributes),
    })),
    status: { code: status?.enumValue(STATUS.code) ?? 0, message: statusMessage === '' ? undefined : statusMessage },
    links: span.messages(SPAN.links).map((link) => {
      const linkedTrace = link.id(LINK.traceId);
      const linkedSpan = link.id(LINK.spanId);
      // A link names a span; one without both ids is as malformed as a span without them.
      if (linkedTrace === undefined || linkedSpan === undefined)
        throw new DecodeError('link without traceId or spanId');
      return { traceId: linkedTrace, spanId: linkedSpan, attributes: attributes(link, LINK.attributes) };
    }),
    resource,
    scope,
  };
}

type PointContext = Pick<OtlpMetricPoint, 'name' | 'unit' | 'description' | 'resource' | 'scope'>;

function decodeMetricPoints(request: OtlpNode): OtlpMetricPoint[] {
  return request.messages(METRICS_REQUEST.resourceMetrics).flatMap((rm) => {
    const resource = attributes(rm.message(RESOURCE_METRICS.resource), RESOURCE.attributes);
    return rm.messages(RESOURCE_METRICS.scopeMetrics).flatMap((sm) => {
      const scope = scopeOf(sm.message(SCOPE_METRICS.scope));
      return sm.messages(SCOPE_METRICS.metrics).flatMap((metric) => {
        const context: PointContext = {
          name: metric.string(METRIC.name) ?? '',
          unit: metric.string(METRIC.unit) ?? '',
          description: metric.string(METRIC.description) ?? '',
          resource,
          scope,
        };
        return decodeMetric(metric, context);
      });
    });
  });
}

function temporalityOf(data: OtlpNode): Pick<OtlpMetricPoint, 'temporality'> {
  const value = data.enumValue(DATA.aggregationTemporality);
  if (value === 1) return { temporality: 'delta' };
  if (value === 2) return { temporality: 'cumulative' };
  return {};
}

function decodeMetric(metric: OtlpNode, context: PointContext): OtlpMetricPoint[] {
  const sum = metric.message(METRIC.sum);
  if (sum !== undefined) {
    const shape = { kind: 'sum' as const, monotonic: sum.bool(DATA.isMonotonic) ?? false, ...temporalityOf(sum) };
    return sum.messages(DATA.dataPoints).map((p) => ({ ...context, ...shape, ...numberPoint(p, context.name) }));
  }
  const gauge = metric.message(METRIC.gauge);
  if (gauge !== undefined) {
    return gauge
      .messages(DATA.dataPoints)
      .map((p) => ({ ...context, kind: 'gauge' as const, ...numberPoint(p, context.name) }));
  }
  const histogram = metric.message(METRIC.histogram);
  if (histogram !== undefined) {
    const shape = { kind: 'histogram' as const, ...temporalityOf(histogram) };
    return histogram
      .messages(DATA.dataPoints)
      .map((p) => ({ ...context, ...shape, ...histogramPoint(p, context.name) }));
  }
  return []; // exponential histogram or summary: not flattened (see the header)
}

type PointFields = Pick<OtlpMetricPoint, 'attributes' | 'startTimeUnixNano' | 'timeUnixNano' | 'value' | 'valueType'>;

function numberPoint(p: OtlpNode, metricName: string): PointFields {
  const base = {
    attributes: attributes(p, NUMBER_POINT.attributes),
    startTimeUnixNano: p.integer(NUMBER_POINT.startTimeUnixNano) ?? 0n,
    timeUnixNano: p.integer(NUMBER_POINT.timeUnixNano) ?? 0n,
  };
  const asInt = p.integer(NUMBER_POINT.asInt);
  if (asInt !== undefined) return { ...base, value: safeNumber(asInt, `${metricName} asInt`), valueType: 'int' };
  const asDouble = p.double(NUMBER_POINT.asDouble);
  if (asDouble !== undefined) return { ...base, value: asDouble, valueType: 'double' };
  return base;
}

type HistogramFields = Pick<
  OtlpMetricPoint,
  | 'attributes'
  | 'startTimeUnixNano'
  | 'timeUnixNano'
  | 'count'
  | 'sum'
  | 'min'
  | 'max'
  | 'bucketCounts'
  | 'explicitBounds'
>;

function histogramPoint(p: OtlpNode, metricName: string): HistogramFields {
  // sum, min and max are proto3 `optional`: absent means "not recorded", not 0.
  const sum = p.double(HISTOGRAM_POINT.sum);
  const min = p.double(HISTOGRAM_POINT.min);
  const max = p.double(HISTOGRAM_POINT.max);
  return {
    attributes: attributes(p, HISTOGRAM_POINT.attributes),
    startTimeUnixNano: p.integer(HISTOGRAM_POINT.startTimeUnixNano) ?? 0n,
    timeUnixNano: p.integer(HISTOGRAM_POINT.timeUnixNano) ?? 0n,
    count: safeNumber(p.integer(HISTOGRAM_POINT.count) ?? 0n, `${metricName} count`),
    ...(sum === undefined ? {} : { sum }),
    ...(min === undefined ? {} : { min }),
    ...(max === undefined ? {} : { max }),
    bucketCounts: p.integers(HISTOGRAM_POINT.bucketCounts).map((n) => safeNumber(n, `${metricName} bucketCounts`)),
    explicitBounds: p.doubles(HISTOGRAM_POINT.explicitBounds),
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

type Signal = 'traces' | 'metrics';
const SIGNAL_PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics' };

/** The collector's OTLP/HTTP receiver accepts exactly these two media types; others get 415. */
function encodingOf(contentType: string): OtlpEncoding | undefined {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  return undefined;
}

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function decompress(body: Buffer, contentEncoding: string): Promise<Buffer> {
  const encoding = contentEncoding.trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return body;
  if (encoding !== 'gzip' && encoding !== 'deflate')
    throw new HttpError(415, `unsupported Content-Encoding ${contentEncoding}`);
  try {
    return encoding === 'gzip' ? await gunzipAsync(body) : await inflateAsync(body);
  } catch (err) {
    throw new DecodeError(`body is not valid ${encoding}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseRoot(body: Buffer, encoding: OtlpEncoding, signal: Signal): OtlpNode {
  const path = signal === 'traces' ? 'ExportTraceServiceRequest' : 'ExportMetricsServiceRequest';
  if (encoding === 'protobuf') return new ProtobufNode(body, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(body));
  } catch (err) {
    throw new DecodeError(`body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isJsonObject(parsed)) throw new DecodeError(`${path}: expected a JSON object`);
  return new JsonNode(parsed, path);
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

/** google.rpc.Status { int32 code = 1; string message = 2; }, the body OTLP asks for on errors. */
function encodeRpcStatus(code: number, message: string): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const text = Buffer.from(message, 'utf8');
  return Buffer.from([0x08, ...varint(code), 0x12, ...varint(text.length), ...text]);
}

/** gRPC codes matching the HTTP statuses we answer, for the Status body. */
function rpcCodeOf(status: number): number {
  if (status === 400) return 3; // INVALID_ARGUMENT
  if (status === 429 || status === 503) return 14; // UNAVAILABLE
  return 2; // UNKNOWN
}

function reply(
  res: ServerResponse,
  status: number,
  encoding: OtlpEncoding | undefined,
  message: string,
  extraHeaders: Record<string, string> = {},
): void {
  const ok = status >= 200 && status < 300;
  let body: Buffer;
  if (encoding === 'protobuf')
    body = ok ? Buffer.alloc(0) : encodeRpcStatus(rpcCodeOf(status), message); // empty Export*ServiceResponse = full success
  else if (encoding === 'json') body = Buffer.from(JSON.stringify(ok ? {} : { code: rpcCodeOf(status), message }));
  else body = Buffer.from(message);
  const contentType =
    encoding === 'protobuf' ? 'application/x-protobuf' : encoding === 'json' ? 'application/json' : 'text/plain';
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(body.length), ...extraHeaders });
  res.end(body);
}

class ReceiverState {
  spans: OtlpSpan[] = [];
  points: OtlpMetricPoint[] = [];
  requests: OtlpRequestRecord[] = [];
  errors: OtlpReceiverError[] = [];
  /** OTLP requests seen since start (not reset), for failFirst. */
  seen = 0;

  describe(): string {
    const statuses = this.requests.map((r) => `${r.path} ${r.encoding} ${r.status}`).join(', ') || 'none';
    const errors = this.errors.map((e) => `${e.status} ${e.message}`).join('; ') || 'none';
    return `${this.spans.length} span(s), ${this.points.length} metric point(s); requests: ${statuses}; errors: ${errors}`;
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  state: ReceiverState,
  opts: OtlpReceiverOptions,
): Promise<void> {
  const body = await readBody(req);
  const path = new URL(req.url ?? '/', 'http://receiver').pathname;
  const refuse = (status: number, message: string, encoding?: OtlpEncoding): void => {
    state.errors.push({ path, status, message });
    reply(res, status, encoding, message);
  };
  const signal = SIGNAL_PATHS[path];
  if (signal === undefined) return refuse(404, `no OTLP endpoint at ${path}`);
  if (req.method !== 'POST') return refuse(405, `${req.method ?? '?'} ${path}: only POST is supported`);
  const contentType = req.headers['content-type'] ?? '';
  const encoding = encodingOf(contentType);
  if (encoding === undefined) return refuse(415, `unsupported Content-Type ${JSON.stringify(contentType)}`);

  const record: OtlpRequestRecord = { path, contentType, encoding, headers: headerRecord(req), status: 0 };
  state.requests.push(record);
  const answer = (status: number, message: string, headers?: Record<string, string>): void => {
    record.status = status;
    reply(res, status, encoding, message, headers);
  };

  state.seen += 1;
  if (state.seen <= (opts.failFirst ?? 0)) {
    const retryAfter: Record<string, string> =
      opts.retryAfterSeconds === undefined ? {} : { 'retry-after': String(opts.retryAfterSeconds) };
    return answer(
      opts.failStatus ?? 503,
      `failing request ${state.seen} of the first ${opts.failFirst ?? 0} on purpose`,
      retryAfter,
    );
  }

  let decoded: { spans: OtlpSpan[]; points: OtlpMetricPoint[] };
  try {
    const root = parseRoot(await decompress(body, req.headers['content-encoding'] ?? ''), encoding, signal);
    decoded =
      signal === 'traces' ? { spans: decodeSpans(root), points: [] } : { spans: [], points: decodeMetricPoints(root) };
  } catch (err) {
    if (!(err instanceof DecodeError || err instanceof HttpError)) throw err;
    const status = err instanceof HttpError ? err.status : 400;
    state.errors.push({ path, status, message: err.message });
    return answer(status, err.message);
  }

  const status = opts.status ?? 200;
  if (status >= 200 && status < 300) {
    state.spans.push(...decoded.spans);
    state.points.push(...decoded.points);
  }
  answer(status, `answering ${status} as configured`);
}

/** Starts a receiver on 127.0.0.1 with an ephemeral port. */
export async function startOtlpReceiver(opts: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const state = new ReceiverState();
  const server = createServer((req, res) => {
    handle(req, res, state, opts).catch((err: unknown) => {
      const message = `receiver failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      state.errors.push({ path: req.url ?? '', status: 500, message });
      if (!res.headersSent) reply(res, 500, undefined, message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...state.spans],
    metricPoints: () => [...state.points],
    requests: () => [...state.requests],
    errors: () => [...state.errors],
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() >= deadline) {
          throw new Error(
            `OTLP receiver: waitFor(${pred.toString()}) still false after ${timeoutMs} ms; received ${state.describe()}`,
          );
        }
        await delay(10);
      }
    },
    reset() {
      state.spans = [];
      state.points = [];
      state.requests = [];
      state.errors = [];
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Exporters keep sockets alive; without this, close() would wait for their idle timeout.
        server.closeAllConnections();
      });
    },
  };
}
