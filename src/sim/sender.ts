// POSTs one delivery the way Twilio Event Streams does (reference §5, §6): the body is a JSON array
// holding one CloudEvent, Content-Type application/json, and X-Twilio-Signature = Base64(HMAC-SHA1(auth
// token, public URL + "bodySHA256=<hex SHA-256 of the body>")). The request goes to the target (which
// may differ from the public URL, as behind a proxy) with the signed URL's query string. Credentials in
// the public URL are sent as pre-emptive Basic auth, as Twilio does. Connections are kept alive.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { signTwilioRequest } from '../http/signature.js';
import { VERSION } from '../version.js';

/** An HTTP status, or why there was none. */
export type Answer = number | 'timeout' | 'error';

export interface Poster {
  post(body: Buffer): Promise<Answer>;
  close(): void;
}

export interface HttpPosterOptions {
  /** Where the request goes. */
  target: string;
  /** The sink destination as configured in Twilio: what the signature covers. */
  publicUrl: string;
  token: string;
  /** Twilio gives a webhook sink 5 s to answer (§5) before it retries. */
  timeoutMs: number;
  maxSockets: number;
}

function basicAuth(url: URL): string | undefined {
  if (url.username === '') return undefined;
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** The request line Twilio would use: the target's path plus the signed URL's query string. */
export function requestPath(target: URL, signedUrl: string): string {
  const q = signedUrl.indexOf('?');
  return `${target.pathname}${q === -1 ? '' : signedUrl.slice(q)}`;
}

export function createHttpPoster(options: HttpPosterOptions): Poster {
  const target = new URL(options.target);
  const https = target.protocol === 'https:';
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets })
    : new HttpAgent({ keepAlive: true, maxSockets: options.maxSockets });
  const request = https ? httpsRequest : httpRequest;
  const authorization = basicAuth(new URL(options.publicUrl)) ?? basicAuth(target);
  const hostname = target.hostname.replace(/^\[(.*)\]$/, '$1');

  return {
    post(body) {
      const signed = signTwilioRequest(options.token, options.publicUrl, body);
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/json',
        'Content-Length': body.length,
        'X-Twilio-Signature': signed.signature,
        'User-Agent': `voice-insights-exporter-simulator/${VERSION}`,
      };
      if (authorization !== undefined) headers['Authorization'] = authorization;
      return new Promise<Answer>((resolve) => {
        let settled = false;
        const settle = (answer: Answer) => {
          if (settled) return;
          settled = true;
          resolve(answer);
        };
        const req = request(
          { hostname, port: target.port, path: requestPath(target, signed.url), method: 'POST', agent, headers },
          (res: IncomingMessage) => {
            res.on('error', () => settle('error'));
            res.on('end', () => settle(res.statusCode ?? 'error'));
            res.resume();
          },
        );
        req.setTimeout(options.timeoutMs, () => {
          settle('timeout');
          req.destroy();
        });
        req.on('error', () => settle('error'));
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
