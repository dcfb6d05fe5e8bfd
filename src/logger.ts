// Structured JSON logs (pino). Secrets never reach a log line: we never log tokens, headers or payload
// values, and the redaction below is a second line of defence for anything passed by mistake.
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'voice-insights-exporter' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'token',
          'tokens',
          'authToken',
          'authTokens',
          'password',
          '*.password',
          'authorization',
          '*.authorization',
          'headers',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** A logger that writes nothing; for tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
