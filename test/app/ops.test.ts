import type { ExchangeNode } from '../../app/exchange-node';
import type { SwitchAdapter } from '../../app/switch/port';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';

/** /health, /ready and /metrics over real HTTP. */
let infra: TestInfra;
let node: ExchangeNode;
let switchUp = true;

const fakeSwitch: SwitchAdapter = {
  name: 'testswitch',
  start: async () => undefined,
  stop: async () => undefined,
  isConnected: () => switchUp,
};

beforeAll(async () => {
  infra = await createTestInfra('ops');
  node = await startTestNode(infra, {}, () => [fakeSwitch]);
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

const get = (path: string) => fetch(`http://127.0.0.1:${node.httpPort}${path}`);

it('/health answers while the process is up', async () => {
  const r = await get('/health');
  expect(r.status).toBe(200);
  expect(await r.json()).toMatchObject({ status: 'ok' });
});

it('/ready reports each dependency, and 503 when a switch is disconnected', async () => {
  switchUp = true;
  let r = await get('/ready');
  expect(r.status).toBe(200);
  // details inform (the registry copies' ages: none imported here) and never decide readiness
  expect(await r.json()).toEqual({ status: 'ready', dependencies: { postgres: 'up', redis: 'up', testswitch: 'up' }, details: { dncRegistry: { us: null, ca: null } } });
  switchUp = false;
  r = await get('/ready');
  expect(r.status).toBe(503);
  expect(((await r.json()) as { dependencies: Record<string, string> }).dependencies.testswitch).toBe('down');
});

it('/metrics exposes the exchange metrics in Prometheus format', async () => {
  await get('/ready');
  const text = await (await get('/metrics')).text();
  expect(text).toContain('callx_routing_decision_seconds');
  expect(text).toMatch(/callx_dependency_up\{dependency="postgres"\} 1/);
  expect(text).toMatch(/callx_dependency_up\{dependency="testswitch"\} 0/);
});

it('a node stopped right after it starts leaves no Redis command failing behind it', async () => {
  // The socket.io adapter subscribes and unsubscribes without awaiting: closing its connections under those
  // commands used to reject them as unhandled "Connection is closed" errors (and fail whichever test was running).
  const failures: string[] = [];
  const onRejection = (err: unknown) => failures.push(String((err as Error)?.message ?? err));
  process.on('unhandledRejection', onRejection);
  try {
    for (let i = 0; i < 3; i++) {
      const short = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
      await short.stop();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  expect(failures).toEqual([]);
}, 60_000);
