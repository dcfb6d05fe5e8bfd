// A local OTLP/HTTP trace receiver for the bench: answers 200 with an empty ExportTraceServiceResponse
// (valid in protobuf and in JSON) to POST /v1/traces, without decoding, so the exporter's trace export
// runs as in production and costs the sink almost nothing. Its own process, run with plain node.
// PORT from the environment; loopback only. Counts requests and bytes, printed on SIGTERM.
import { createServer } from 'node:http';

const port = Number(process.env['PORT']);
let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/traces') {
    res.statusCode = 404;
    res.end();
    return;
  }
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    requests++;
    const json = (req.headers['content-type'] ?? '').includes('json');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    res.end(json ? '{}' : '');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ requests, bytes })}\n`);
  process.exit(0);
});
