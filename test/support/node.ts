import { loadConfig } from '../../app/config';
import { silentLogger } from '../../app/observability/logger';
import { startExchangeNode, type ExchangeNode, type NodeOptions, type SwitchFactory } from '../../app/exchange-node';
import { TEST_DATABASE_URL, TEST_REDIS_URL, type TestInfra } from './infra';

/** An exchange node on the test file's schema and Redis prefix, HTTP on a free port. */
export function startTestNode(infra: Pick<TestInfra, 'schema' | 'prefix'>, env: Record<string, string> = {}, options?: SwitchFactory | NodeOptions): Promise<ExchangeNode> {
  const config = loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: infra.schema,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: infra.prefix,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ID: `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    // Tests that place outbound calls import no national registry copy unless they test it (test/e2e/lists.test.ts).
    DNC_REGISTRY_REQUIRED: 'false',
    ...env,
  });
  return startExchangeNode(config, silentLogger(), typeof options === 'function' ? { switches: options } : options);
}
