// Optional OTLP/HTTP metrics push beside the /metrics scrape. Endpoint, headers, timeout and
// compression come from the standard OTEL_EXPORTER_OTLP_[METRICS_]* variables, read by the exporter
// itself (https://opentelemetry.io/docs/specs/otel/protocol/exporter/). Temporality is cumulative,
// like the scrape, so a collector can forward both to Prometheus without rate surprises.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import {
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

export interface OtlpMetricsOptions {
  protocol: 'http/protobuf' | 'http/json';
  intervalMs: number;
  /** Told about each failed push (counted by the exporter's self-metrics). */
  onFailure: () => void;
}

export function createOtlpMetricsReader(opts: OtlpMetricsOptions): PeriodicExportingMetricReader {
  const settings = { temporalityPreference: AggregationTemporalityPreference.CUMULATIVE };
  const exporter = opts.protocol === 'http/json' ? new JsonExporter(settings) : new ProtoExporter(settings);
  return new PeriodicExportingMetricReader({
    exporter: countingFailures(exporter, opts.onFailure),
    exportIntervalMillis: opts.intervalMs,
    exportTimeoutMillis: Math.min(30_000, opts.intervalMs),
  });
}

/** Wraps an exporter so failed pushes are counted, not only logged by the SDK's diag logger. */
function countingFailures(inner: PushMetricExporter, onFailure: () => void): PushMetricExporter {
  return {
    export(metrics: ResourceMetrics, done: (result: ExportResult) => void) {
      inner.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) onFailure();
        done(result);
      });
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  };
}
