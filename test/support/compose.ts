// deploy/compose.yaml as the tests read it: `${VAR:-default}` interpolated as Compose does (from a given
// environment, empty by default, so the file's own defaults apply), services with their bind mounts
// resolved to repository paths, and a container path mapped back to the host file behind it.
import { readFileSync } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './child.js';

export const COMPOSE_FILE = resolve(REPO_ROOT, 'deploy/compose.yaml');
const COMPOSE_DIR = dirname(COMPOSE_FILE);

export type Doc = Record<string, unknown>;
export const isRecord = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

export function rec(v: unknown, what: string): Doc {
  if (!isRecord(v)) throw new Error(`${what} is not a mapping`);
  return v;
}

export function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' || typeof x === 'number'))
    throw new Error(`${what} is not a list of strings`);
  return v.map(String);
}

/**
 * Compose's interpolation: `$$` is a literal `$`; `${VAR}`, `$VAR`, `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset), `${VAR:?err}` / `${VAR?err}` (required) from `env`.
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      const unset = value === undefined;
      const empty = unset || value === '';
      switch (op) {
        case ':-':
          return empty ? (arg ?? '') : value;
        case '-':
          return unset ? (arg ?? '') : value;
        case ':?':
        case '?':
          if (op === ':?' ? empty : unset) throw new Error(`${name} is required: ${arg ?? ''}`);
          return value ?? '';
        default:
          return value ?? '';
      }
    },
  );
}

function interpolateDeep(v: unknown, env: Readonly<Record<string, string>>): unknown {
  if (typeof v === 'string') return interpolate(v, env);
  if (Array.isArray(v)) return v.map((x) => interpolateDeep(x, env));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateDeep(x, env)]));
  return v;
}

export interface Mount {
  /** Host path, absolute, for a bind mount; undefined for a named volume. */
  hostPath: string | undefined;
  volume: string | undefined;
  target: string;
  readOnly: boolean;
}

export interface Service {
  name: string;
  raw: Doc;
  image: string | undefined;
  build: Doc | undefined;
  environment: Record<string, string>;
  command: string[] | undefined;
  mounts: Mount[];
  /** Published ports as [host, container] (host may be undefined). */
  ports: { host: number | undefined; container: number }[];
  profiles: string[];
}

export interface Compose {
  raw: Doc;
  services: Map<string, Service>;
  volumes: string[];
}

function parseMount(entry: unknown, service: string): Mount {
  if (typeof entry !== 'string') throw new Error(`${service}: use the short volume syntax (source:target[:ro])`);
  const [source = '', target = '', mode = ''] = entry.split(':');
  const bind = source.startsWith('.') || source.startsWith('/');
  return {
    hostPath: bind ? resolve(COMPOSE_DIR, source) : undefined,
    volume: bind ? undefined : source,
    target,
    readOnly: mode.split(',').includes('ro'),
  };
}

function parsePort(entry: unknown, service: string): { host: number | undefined; container: number } {
  const text = String(entry);
  const parts = text.replace(/\/tcp$/, '').split(':');
  const container = Number(parts.at(-1));
  const host = parts.length >= 2 ? Number(parts.at(-2)) : undefined;
  if (!Number.isInteger(container)) throw new Error(`${service}: unreadable port ${text}`);
  return { host, container };
}

function environmentOf(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (Array.isArray(v))
    return Object.fromEntries(
      v.map((e) => {
        const s = String(e);
        const eq = s.indexOf('=');
        return eq < 0 ? [s, ''] : [s.slice(0, eq), s.slice(eq + 1)];
      }),
    );
  return Object.fromEntries(Object.entries(rec(v, 'environment')).map(([k, x]) => [k, String(x)]));
}

export function loadCompose(env: Readonly<Record<string, string>> = {}): Compose {
  const raw = rec(interpolateDeep(parse(readFileSync(COMPOSE_FILE, 'utf8')), env), 'compose.yaml');
  const services = new Map<string, Service>();
  for (const [name, v] of Object.entries(rec(raw['services'], 'services'))) {
    const s = rec(v, `service ${name}`);
    const command = s['command'];
    services.set(name, {
      name,
      raw: s,
      image: typeof s['image'] === 'string' ? s['image'] : undefined,
      build: isRecord(s['build']) ? s['build'] : undefined,
      environment: environmentOf(s['environment']),
      command:
        command === undefined ? undefined : typeof command === 'string' ? command.split(/\s+/) : strings(command, name),
      mounts: ((s['volumes'] as unknown[] | undefined) ?? []).map((m) => parseMount(m, name)),
      ports: ((s['ports'] as unknown[] | undefined) ?? []).map((p) => parsePort(p, name)),
      profiles: s['profiles'] === undefined ? [] : strings(s['profiles'], `${name}.profiles`),
    });
  }
  return { raw, services, volumes: Object.keys(isRecord(raw['volumes']) ? raw['volumes'] : {}) };
}

export function service(compose: Compose, name: string): Service {
  const s = compose.services.get(name);
  if (s === undefined) throw new Error(`deploy/compose.yaml has no service ${name}`);
  return s;
}

/** The host file or directory a service sees at `containerPath` (through the longest bind mount), or undefined. */
export function hostPathOf(s: Service, containerPath: string): string | undefined {
  const path = posix.normalize(containerPath);
  let best: Mount | undefined;
  for (const m of s.mounts) {
    if (m.hostPath === undefined) continue;
    if (path === m.target || path.startsWith(`${m.target.replace(/\/$/, '')}/`))
      if (best === undefined || m.target.length > best.target.length) best = m;
  }
  if (best?.hostPath === undefined) return undefined;
  return resolve(best.hostPath, posix.relative(best.target, path));
}

/** `--name=value` or `--name value` in a command line. */
export function flagValue(command: readonly string[] | undefined, name: string): string | undefined {
  if (command === undefined) return undefined;
  const values = flagValues(command, name);
  return values.at(-1);
}

export function flagValues(command: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const word = command[i] ?? '';
    if (word.startsWith(`${name}=`)) out.push(word.slice(name.length + 1));
    else if (word === name && i + 1 < command.length) out.push(command[i + 1] ?? '');
  }
  return out;
}
