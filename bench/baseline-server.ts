// The baseline the exporter is measured against: a bare Koa handler that reads the raw body,
// JSON-parses it and answers 200 with a small JSON body, as the exporter does. Its own process, run
// with plain node (children.ts transpiles it). PORT from the environment; loopback only.
import Koa from 'koa';

const port = Number(process.env['PORT']);
const app = new Koa();
app.use(async (ctx) => {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  ctx.status = 200;
  ctx.body = { accepted: Array.isArray(parsed) ? parsed.length : 1 };
});
app.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
