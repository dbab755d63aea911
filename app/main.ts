import { ConfigError, loadConfig } from './config';
import { createLogger } from './observability/logger';
import { startExchangeNode } from './exchange-node';
import { createSwitchAdapters } from './switch/factory';

/** Composition root: read the environment, start one exchange node, stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const node = await startExchangeNode(config, logger, { switches: (core) => createSwitchAdapters(core.config, logger) });
  let signals = 0;
  const shutdown = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(1); // a second Ctrl-C means now
    logger.info({ signal }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: Error) => {
  process.stderr.write(`callx failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
