#!/usr/bin/env node
// CLI entry point: `voice-insights-exporter [serve]`, `replay FILE`, `simulate`, `check-config`.
// Exit codes: 0 fine; 1 crashed; 2 the command line, the configuration or a named file is wrong;
// 3 replay recorded the events but not every span was exported (src/replay-command.ts).
import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { createApp } from './app.js';
import { systemClock } from './clock.js';
import { adviseConfig, describeConfig, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { runReplayCommand, type ReplayCommandOptions } from './replay-command.js';
import { runSimulateCommand } from './sim/cli.js';
import { SIMULATE_FLAGS, type RawSimulateOptions } from './sim/options.js';
import { commandOperand, unknownCommandMessage } from './usage.js';
import { VERSION } from './version.js';

/** Exit code for configuration and usage problems, distinct from crashes (1). */
const EXIT_CONFIG = 2;

function readConfig(): Config {
  // A .env file in the working directory is read if present; real environment variables win.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const result = loadConfig(process.env);
  if (!result.ok) {
    process.stderr.write(
      `voice-insights-exporter: invalid configuration:\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    process.exit(EXIT_CONFIG);
  }
  return result.config;
}

async function serve(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  const app = await createApp(config, { clock: systemClock, logger });
  const { webhookPort, metricsPort } = await app.start();
  logger.info({ config: describeConfig(config), version: VERSION }, 'configuration');
  logger.info(
    {
      webhook: `http://${config.host}:${webhookPort}${config.webhookPath}`,
      metrics: `http://${config.metricsHost}:${metricsPort}/metrics`,
    },
    'voice-insights-exporter listening',
  );
  warnAboutSecurity(config, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    app.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** serve starts whatever check-config says (not ready until fixed); the problems are logged as warnings. */
function warnAboutSecurity(config: Config, logger: Logger): void {
  const { problems, warnings } = adviseConfig(config);
  for (const message of [...problems, ...warnings]) logger.warn(message);
}

async function replay(file: string, opts: ReplayCommandOptions): Promise<void> {
  process.exitCode = await runReplayCommand(file, opts, readConfig());
}

function checkConfig(): void {
  const config = readConfig();
  const { problems, warnings } = adviseConfig(config);
  process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
  for (const w of warnings) process.stderr.write(`voice-insights-exporter: warning: ${w}\n`);
  if (problems.length > 0) {
    process.stderr.write(
      `voice-insights-exporter: configuration problem:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    process.exitCode = EXIT_CONFIG;
    return;
  }
  process.stdout.write(
    `configuration OK${warnings.length === 0 ? '' : ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'} on stderr)`}\n`,
  );
}

const program = new Command()
  .name('voice-insights-exporter')
  .description(
    'Twilio Voice Insights Call Insights events (Event Streams webhooks) to OpenTelemetry metrics and traces',
  )
  .version(VERSION)
  // Before the subcommands are added, so they inherit it: usage errors exit 2, not 1 (a crash).
  .exitOverride((err) => {
    throw err;
  });
program
  .command('serve', { isDefault: true })
  .description('run the webhook receiver and the /metrics endpoint')
  .action(serve);
program
  .command('replay')
  .argument('<file>', 'JSON array, JSON lines of CloudEvents or Twilio bodies, or the dead-letter file')
  .option(
    '--finalise-pending',
    'finalise calls still waiting for their complete summary at the end (sends their traces now)',
  )
  .option(
    '--no-traces',
    'export no trace (OTEL_TRACES_EXPORTER=none for this run): events, dedup and call state only; spans in a local outbox are discarded',
  )
  .description(
    'feed recorded CloudEvents through the same pipeline (dedup, metrics, traces); prints a JSON report. Exit 3: spans not exported',
  )
  .action(replay);
program
  .command('check-config')
  .description('validate the environment configuration and print the effective settings')
  .action(checkConfig);
const simulateCommand = program
  .command('simulate')
  .description(
    'send realistic, signed synthetic Twilio Call Insights traffic to a running exporter; prints a JSON report',
  );
for (const [flags, description] of SIMULATE_FLAGS) simulateCommand.option(flags, description);
simulateCommand.action((options: RawSimulateOptions) => runSimulateCommand(options));

// `serve` is the default command: without this check a mistyped command would be passed to it.
const operand = commandOperand(process.argv.slice(2));
const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
if (operand !== undefined && operand !== 'help' && !known.includes(operand)) {
  const commands = program.commands.map((c) => ({
    name: c.name(),
    description: c.description(),
    isDefault: c.name() === 'serve',
  }));
  process.stderr.write(`${unknownCommandMessage(operand, commands, program.name())}\n`);
  process.exit(EXIT_CONFIG);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander has printed the message; --help and --version exit 0.
    process.exit(err.exitCode === 0 ? 0 : EXIT_CONFIG);
  }
  process.stderr.write(`voice-insights-exporter: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
