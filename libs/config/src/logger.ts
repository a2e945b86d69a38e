import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { EnvVars } from './env';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** JSON lines (one object per log line) by default, for log shippers; LOG_FORMAT=pretty for a terminal. */
export function createLogger(env: EnvVars, context = 'recoder'): ConsoleLogger {
  const upTo = LEVELS.indexOf(env.LOG_LEVEL);
  return new ConsoleLogger(context, { json: env.LOG_FORMAT === 'json', logLevels: LEVELS.slice(0, upTo + 1) });
}
