// A real redis-server (from PATH) for the tests of the shared store: started on a free port with its
// own directory, append-only file synced on every write (`appendfsync always`, what the README asks of
// a production deployment), no RDB snapshots. It can be stopped and started again on the same port
// and directory (an outage; the data comes back from the append-only file), or killed.
// Tests never skip when redis-server is missing: they fail with the install hint (CI installs it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './child.js';
import { stablePort } from './restartable.js';

const INSTALL_HINT =
  'redis-server is not on PATH: install it (`apt-get install -y redis-server`; .ci/run does this in CI) to run the shared-store tests';

export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server || command -v valkey-server'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0] ?? '';
  if (found.status !== 0 || path === '') throw new Error(INSTALL_HINT);
  return path;
}

/**
 * Sends inline commands on one connection and resolves with the reply line of the last one (e.g.
 * "+PONG"), or rejects. Enough for PING, AUTH and DEBUG SLEEP; replies must be one line each.
 */
export function redisCommand(port: number, command: string | string[], timeoutMs = 1000, tls = false): Promise<string> {
  const commands = typeof command === 'string' ? [command] : command;
  return new Promise((resolve, reject) => {
    const send = () => socket.write(commands.map((c) => `${c}\r\n`).join(''));
    // A readiness probe: the test's own server, whose self-signed certificate is not checked here.
    const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, send) : new Socket();
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${commands.at(-1) ?? ''} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('utf8');
      const lines = data.split('\r\n');
      if (lines.length <= commands.length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(lines[commands.length - 1] ?? '');
    });
    if (!tls) socket.connect(port, '127.0.0.1', send);
  });
}

export interface RedisServerOptions {
  /** `always` (default: every acknowledged write survives a kill of the server) or `everysec`. */
  appendfsync?: 'always' | 'everysec';
  /** Requires AUTH with this password (`requirepass`). */
  password?: string;
  /** TLS only (rediss://), with a self-signed certificate for 127.0.0.1 (`caFile`). */
  tls?: boolean;
}

export class RedisServer {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly binary: string,
    private readonly opts: RedisServerOptions,
  ) {}

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const binary = redisServerBinary();
    const server = new RedisServer(await stablePort(), mkdtempSync(join(tmpdir(), 'vie-redis-')), binary, opts);
    await server.startAgain();
    return server;
  }

  get url(): string {
    const auth = this.opts.password === undefined ? '' : `:${encodeURIComponent(this.opts.password)}@`;
    return `${this.opts.tls === true ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}`;
  }

  /** The self-signed certificate of a TLS server (trust it with NODE_EXTRA_CA_CERTS). */
  get caFile(): string {
    return join(this.dir, 'tls.crt');
  }

  /** `--port`, or for TLS `--tls-port` with a certificate made once (and no client certificates). */
  private listenArgs(): string[] {
    if (this.opts.tls !== true) return ['--port', String(this.port)];
    const key = join(this.dir, 'tls.key');
    if (!existsSync(key)) {
      const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'];
      args.push('-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', this.caFile);
      const made = spawnSync('openssl', args, { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
    }
    const tls = ['--tls-port', String(this.port), '--tls-cert-file', this.caFile, '--tls-key-file', key];
    return ['--port', '0', ...tls, '--tls-auth-clients', 'no'];
  }

  running(): boolean {
    return this.proc !== undefined;
  }

  /** Starts the server (again) on the same port and directory, and waits until it answers PING. */
  async startAgain(): Promise<void> {
    if (this.proc !== undefined) throw new Error('redis-server is already running');
    const proc = spawn(
      this.binary,
      [
        ...this.listenArgs(),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        this.opts.appendfsync ?? 'always',
        '--maxmemory-policy',
        'noeviction',
        // DEBUG SLEEP, from this machine only: a slow server for the outage test.
        '--enable-debug-command',
        'local',
        '--daemonize',
        'no',
        ...(this.opts.password === undefined ? [] : ['--requirepass', this.opts.password]),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    const append = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.proc === proc) this.proc = undefined;
    });
    await waitFor(
      `redis-server on port ${this.port} to answer PING`,
      async () => {
        if (this.proc !== proc) throw new Error(`redis-server exited:\n${this.output}`);
        const reply = await redisCommand(this.port, 'PING', 1000, this.opts.tls === true).catch(() => '');
        // With requirepass an unauthenticated PING is refused, which still says the server is up.
        return reply === '+PONG' || reply.startsWith('-NOAUTH');
      },
      { timeoutMs: 15_000, intervalMs: 25 },
    );
  }

  /** Stops the server (SIGTERM: a clean shutdown; SIGKILL: a crash) and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    proc.kill(signal);
    await this.exited;
  }

  logs(): string {
    return this.output;
  }

  /** Blocks the server for `seconds` (DEBUG SLEEP): a server that is up but too slow to answer. */
  async sleep(seconds: number): Promise<void> {
    const auth = this.opts.password === undefined ? [] : [`AUTH ${this.opts.password}`];
    const reply = await redisCommand(
      this.port,
      [...auth, `DEBUG SLEEP ${seconds}`],
      seconds * 1000 + 5000,
      this.opts.tls === true,
    );
    if (reply !== '+OK') throw new Error(`DEBUG SLEEP answered ${reply}`);
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
