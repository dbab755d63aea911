import pino, { type Logger } from 'pino';
import { loadConfig } from '../../app/config';
import { startExchangeNode, type ExchangeNode, type NodeOptions } from '../../app/exchange-node';
import { TEST_DATABASE_URL, TEST_REDIS_URL, type TestInfra } from './infra';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A pino logger that keeps every line it writes (parsed), for tests that check what was logged. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/** pino's numeric levels */
export const WARN = 40;
export const ERROR = 50;

/** An exchange node like startTestNode's, logging to `logger`. */
export function startLoggedTestNode(infra: Pick<TestInfra, 'schema' | 'prefix'>, logger: Logger, env: Record<string, string> = {}, options?: NodeOptions): Promise<ExchangeNode> {
  const config = loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: infra.schema,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: infra.prefix,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    NODE_ID: `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...env,
  });
  return startExchangeNode(config, logger, options);
}
