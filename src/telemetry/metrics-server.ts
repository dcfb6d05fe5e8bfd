// The metrics port: GET /metrics in Prometheus text format. A plain node:http server, separate from
// the webhook port so /metrics need not be exposed where Twilio reaches the webhook. The exporter is
// only the MetricReader here: its collect() result is written by prometheus-text.ts (the same text as
// the exporter's own request handler, in about a quarter of the time at the label bounds).
import { createServer, type ServerResponse, type Server } from 'node:http';
import { diag } from '@opentelemetry/api';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { PrometheusText } from './prometheus-text.js';

export function createMetricsServer(prometheus: PrometheusExporter): Server {
  const text = new PrometheusText();
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      void scrape(prometheus, text, res);
      return;
    }
    res.statusCode = path === '/metrics' ? 405 : 404;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(path === '/metrics' ? 'method not allowed\n' : 'not found: the metrics are at /metrics\n');
  });
}

/** As PrometheusExporter's handler: 200 text/plain, collection errors logged, a failed collection in the body. */
async function scrape(prometheus: PrometheusExporter, text: PrometheusText, res: ServerResponse): Promise<void> {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/plain');
  let body: string;
  try {
    const { resourceMetrics, errors } = await prometheus.collect();
    if (errors.length > 0) diag.error('PrometheusExporter: metrics collection errors', ...errors);
    body = text.serialize(resourceMetrics);
  } catch (err) {
    body = `# failed to export metrics: ${String(err)}`;
  }
  res.end(body);
}
