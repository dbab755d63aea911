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

/** The part of a logger a per-call module uses: the four levels and child(). A pino Logger is one. */
export interface CallLogger {
  debug: Logger['debug'];
  info: Logger['info'];
  warn: Logger['warn'];
  error: Logger['error'];
  child(bindings: Record<string, unknown>): CallLogger;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * A child logger made on first write. A call node makes several loggers per call (the flow, the caller's leg,
 * each buyer attempt) and at LOG_LEVEL=warn most are never written to, yet pino's child() costs ~4 us and ~500
 * bytes each, kept for the whole call. This holds its parent and bindings and makes the pino child only when a
 * line at an enabled level is logged; child() of it is lazy too. Lines come out exactly as the pino child's would.
 */
class LazyChildLogger implements CallLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  child(bindings: Record<string, unknown>): CallLogger {
    return new LazyChildLogger(this.parent, { ...this.bindings, ...bindings });
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.parent.isLevelEnabled(level)) return;
    this.made ??= this.parent.child(this.bindings);
    (this.made[level] as (...a: unknown[]) => void).apply(this.made, args);
  }
}

export function lazyChild(parent: Logger, bindings: Record<string, unknown>): CallLogger {
  return new LazyChildLogger(parent, bindings);
}
