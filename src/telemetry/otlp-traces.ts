// The OTLP/HTTP span exporter for the configured protocol. Endpoint, headers, timeout and
// compression come from OTEL_EXPORTER_OTLP_[TRACES_]* variables, read by the exporter itself
// (https://opentelemetry.io/docs/specs/otel/protocol/exporter/).
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace';

export function createOtlpSpanExporter(protocol: 'http/protobuf' | 'http/json'): SpanExporter {
  return protocol === 'http/json' ? new JsonExporter() : new ProtoExporter();
}
