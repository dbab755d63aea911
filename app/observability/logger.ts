import pino, { Logger } from 'pino';

export type { Logger };

/** The root logger. Modules take a child (`logger.child({ mod: 'esl' })`) passed in, never a global. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'callx' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A silent logger for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
