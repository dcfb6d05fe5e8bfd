// The built exporter's modules (dist/, what `npm run build` produced and users run), typed by their
// sources. The bench writes and checks state through these, never through a copy of their logic.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as AppModule from '../src/app.js';
import type * as ClockModule from '../src/clock.js';
import type * as ConfigModule from '../src/config.js';
import type * as LoggerModule from '../src/logger.js';
import type * as SqliteModule from '../src/store/sqlite-persistence.js';
import { REPO_ROOT } from './paths.js';

export interface Dist {
  createApp: typeof AppModule.createApp;
  loadConfig: typeof ConfigModule.loadConfig;
  createLogger: typeof LoggerModule.createLogger;
  ManualClock: typeof ClockModule.ManualClock;
  SqlitePersistence: typeof SqliteModule.SqlitePersistence;
  STATE_FILE: string;
}

const load = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(REPO_ROOT, 'dist', path)).href)) as T;

export async function loadDist(): Promise<Dist> {
  const [app, config, logger, clock, sqlite] = await Promise.all([
    load<typeof AppModule>('app.js'),
    load<typeof ConfigModule>('config.js'),
    load<typeof LoggerModule>('logger.js'),
    load<typeof ClockModule>('clock.js'),
    load<typeof SqliteModule>('store/sqlite-persistence.js'),
  ]);
  return {
    createApp: app.createApp,
    loadConfig: config.loadConfig,
    createLogger: logger.createLogger,
    ManualClock: clock.ManualClock,
    SqlitePersistence: sqlite.SqlitePersistence,
    STATE_FILE: sqlite.STATE_FILE,
  };
}
