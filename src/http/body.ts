// Reads the request body as the exact bytes Twilio sent: the signature's bodySHA256 is over those
// bytes, so nothing may decode or re-encode them first. Size-limited (413) and type-checked (415).
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { ExporterError } from '../errors.js';
import { isNodeTimeout } from './http-server.js';

/** Event Streams posts JSON; CloudEvents JSON media types are accepted too. */
const JSON_TYPES = ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json', '+json'];

export function assertJsonContentType(ctx: Context): void {
  // A request without Content-Type is read as JSON: refusing it would make Twilio drop the event.
  if (ctx.get('content-type') === '') return;
  if (ctx.is(JSON_TYPES) === false) {
    throw new ExporterError('unsupported_media_type', 'Content-Type must be application/json');
  }
  const encoding = ctx.get('content-encoding').toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new ExporterError('unsupported_media_type', 'Content-Encoding is not supported; send the body uncompressed');
  }
}

export async function readRawBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    throw new ExporterError('payload_too_large', `body is larger than MAX_BODY_BYTES (${limit})`);
  }
  try {
    return await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined });
  } catch (err) {
    const type = typeof err === 'object' && err !== null && 'type' in err ? err.type : undefined;
    if (type === 'entity.too.large')
      throw new ExporterError('payload_too_large', `body is larger than MAX_BODY_BYTES (${limit})`);
    // REQUEST_TIMEOUT_MS expired: node has already written 408 and destroyed the socket, so count it as that.
    if (isNodeTimeout(ctx.req.socket.errored)) {
      throw new ExporterError('request_timeout', 'body not received within REQUEST_TIMEOUT_MS', 'request_timeout');
    }
    // Aborted or truncated uploads: not Twilio's final word, so 400 is safe (it could not have read it either).
    throw new ExporterError('bad_request', 'body could not be read completely', 'body_incomplete');
  }
}
