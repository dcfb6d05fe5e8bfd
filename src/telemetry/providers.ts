// OpenTelemetry providers. Metrics are read by the Prometheus exporter (served on METRICS_PORT by
// metrics-server.ts, never by the exporter's own server) and, in a later step, pushed over OTLP.
// The resource honours OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES through the SDK's env detector.
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { createOtlpMetricsReader } from './otlp-metrics.js';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { VERSION } from '../version.js';

export interface Telemetry {
  meter: Meter;
  prometheus: PrometheusExporter;
  resource: Resource;
  /** Pushes pending metrics now (OTLP); a no-op for the scrape. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  serviceName: string;
  otlpMetrics: { protocol: 'http/protobuf' | 'http/json'; intervalMs: number } | undefined;
  /** Told about each failed export, by signal. */
  onExportFailure: (signal: 'metrics' | 'traces') => void;
}

export function createTelemetry(opts: TelemetryOptions): Telemetry {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName, [ATTR_SERVICE_VERSION]: VERSION }))
    .merge(detectResources({ detectors: [envDetector] }));
  // Scope labels would add otel_scope_* to every series; users query by metric name alone.
  // metrics-server.ts writes this reader's collect() with prometheus-text.ts, which writes exactly
  // what the exporter's serializer writes for these options (test/telemetry/prometheus-text.test.ts).
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const readers: MetricReader[] = [prometheus];
  if (opts.otlpMetrics !== undefined) {
    readers.push(createOtlpMetricsReader({ ...opts.otlpMetrics, onFailure: () => opts.onExportFailure('metrics') }));
  }
  const provider = new MeterProvider({ resource, readers });
  const meter = provider.getMeter('voice-insights-exporter', VERSION);
  return {
    meter,
    prometheus,
    resource,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
