/**
 * Webhook delivery retention: a node running the webhook worker deletes deliveries that are delivered or dead and
 * older than WEBHOOK_DELIVERY_RETENTION_DAYS, keeps recent ones and never deletes a pending or retrying one; the
 * pruner works in bounded batches and only under its Redis lock.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { silentLogger } from '../../app/observability/logger';
import { PRUNE_LOCK_KEY, WebhookDeliveryPruner } from '../../app/jobs/webhook-delivery-pruner';
import { createEndpoint } from '../../app/store/webhook-repo';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { seedAccount } from '../support/seed';

let infra: TestInfra;
let endpointId: string;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  infra = await createTestInfra('webhook_retention');
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  endpointId = (await createEndpoint(infra.pool, { accountId: 'buyer', url: 'https://hooks.example.com/x', events: ['call.ended'] })).id;
});

afterAll(async () => {
  await infra?.cleanup();
});

/** A delivery row `ageDays` old (its creation; its last attempt `attemptAgeDays` old when it had one). */
async function delivery(name: string, status: string, ageDays: number, attemptAgeDays: number | null = status === 'pending' ? null : ageDays): Promise<void> {
  await infra.pool.query(
    `INSERT INTO webhook_deliveries (event_id, event_type, call_id, account_id, endpoint_id, url, body, status, attempts, created_at, last_attempt_at, delivered_at)
     VALUES ($1, 'call.ended', $1, 'buyer', $2, 'https://hooks.example.com/x', '{}', $3, $4, now() - make_interval(days => $5), $6::timestamptz, CASE WHEN $3 = 'delivered' THEN $6::timestamptz END)`,
    [name, endpointId, status, attemptAgeDays === null ? 0 : 1, ageDays, attemptAgeDays === null ? null : new Date(Date.now() - attemptAgeDays * DAY_MS)],
  );
}

async function remaining(prefix: string): Promise<string[]> {
  const { rows } = await infra.pool.query<{ event_id: string }>('SELECT event_id FROM webhook_deliveries WHERE event_id LIKE $1 ORDER BY event_id', [`${prefix}%`]);
  return rows.map((r) => r.event_id);
}

describe('a node running the webhook worker', () => {
  let node: ExchangeNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  it('deletes old delivered and dead deliveries and keeps recent, pending and retrying ones', async () => {
    await delivery('node-old-delivered', 'delivered', 40);
    await delivery('node-old-dead', 'dead', 31);
    await delivery('node-old-pending', 'pending', 45);
    await delivery('node-old-retrying', 'retrying', 45, 40);
    await delivery('node-recent-delivered', 'delivered', 29);
    await delivery('node-recent-dead', 'dead', 1);
    // created long ago, but redelivered (and dead again) lately: its age counts from that attempt
    await delivery('node-redelivered-dead', 'dead', 60, 2);

    node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
    await eventually(async () => (await remaining('node-old-d')).length === 0, () => 'the old delivered and dead deliveries to be deleted', 10_000);
    expect(await remaining('node-')).toEqual(['node-old-pending', 'node-old-retrying', 'node-recent-dead', 'node-recent-delivered', 'node-redelivered-dead']);
    const metrics = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^callx_webhook_deliveries_pruned_total [1-9]/m);
  }, 30_000);

  it('keeps every delivery with WEBHOOK_DELIVERY_RETENTION_DAYS=0', async () => {
    await delivery('forever-old-delivered', 'delivered', 400);
    node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', WEBHOOK_DELIVERY_RETENTION_DAYS: '0' });
    await new Promise((r) => setTimeout(r, 2000)); // past the first prune's time (a second after start)
    expect(await remaining('forever-')).toEqual(['forever-old-delivered']);
    await infra.pool.query("DELETE FROM webhook_deliveries WHERE event_id LIKE 'forever-%'");
  }, 30_000);
});

describe('WebhookDeliveryPruner', () => {
  const pruner = (batchSize: number) => new WebhookDeliveryPruner(infra.pool, silentLogger(), { redis: infra.redis, days: 30, batchSize });

  it('deletes a backlog in bounded batches, oldest first, until none is left', async () => {
    for (let i = 0; i < 5; i++) await delivery(`batch-${i}`, i % 2 ? 'dead' : 'delivered', 100 - i);
    await delivery('batch-recent', 'delivered', 3);
    const deletes: number[] = [];
    const counting = new WebhookDeliveryPruner(infra.pool, silentLogger(), { redis: infra.redis, days: 30, batchSize: 2, onPruned: (n) => deletes.push(n) });
    expect(await counting.prune()).toBe(5);
    expect(deletes).toEqual([2, 2, 1]);
    expect(await remaining('batch-')).toEqual(['batch-recent']);
  });

  it('prunes nothing while another process holds the lock, and releases its own', async () => {
    await delivery('locked-old', 'delivered', 90);
    await infra.redis.set(PRUNE_LOCK_KEY, 'another-process', 'PX', 10_000);
    expect(await pruner(1000).prune()).toBeUndefined();
    expect(await remaining('locked-')).toEqual(['locked-old']);
    await infra.redis.del(PRUNE_LOCK_KEY);
    expect(await pruner(1000).prune()).toBeGreaterThanOrEqual(1);
    expect(await remaining('locked-')).toEqual([]);
    expect(await infra.redis.exists(PRUNE_LOCK_KEY)).toBe(0);
  });
});
