// The metrics port: GET /metrics in Prometheus text format. A plain node:http server, separate from
// the webhook port so /metrics need not be exposed where Twilio reaches the webhook.
import { createServer, type Server } from 'node:http';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

export function createMetricsServer(prometheus: PrometheusExporter): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      prometheus.getMetricsRequestHandler(req, res);
      return;
    }
    res.statusCode = path === '/metrics' ? 405 : 404;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(path === '/metrics' ? 'method not allowed\n' : 'not found: the metrics are at /metrics\n');
  });
}
