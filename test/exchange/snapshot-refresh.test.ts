/**
 * refreshNow() answers only once a load that began after the call is in place, even when bids applied in place
 * (which also make a new snapshot version) land while an earlier load is reading the old rows.
 */
import type { PoolClient } from 'pg';
import { createRedis } from '../../app/cache/redis';
import { SnapshotSource } from '../../app/exchange/snapshot-source';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';

let infra: TestInfra;

beforeAll(async () => {
  infra = await createTestInfra('snapshot_refresh');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer', balanceCents: 100_000 });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: ['+18885550100'], routing: 'second_price', floorCents: 100, payoutCents: 500 });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'c', bidCents: 1000, destination: 'sip:b@127.0.0.1:5090', convertOnSeconds: 0 });
});

afterAll(async () => {
  await infra?.cleanup();
});

it('waits for a load that read the change, not for one under way that a bid applied in place bumped', async () => {
  const subscriber = createRedis(TEST_REDIS_URL, infra.prefix, silentLogger(), 'snapshot-refresh');
  const source = new SnapshotSource(infra.pool, subscriber, infra.prefix, silentLogger());
  await source.start();
  let locker: PoolClient | undefined;
  try {
    expect(source.current().campaigns.get('c')?.active).toBe(true);
    // A load under way that has read the campaigns (active) and waits on the tracking numbers.
    locker = await infra.pool.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE tracking_numbers IN ACCESS EXCLUSIVE MODE');
    const earlier = source.refreshNow();
    await eventually(async () => {
      const { rows } = await infra.pool.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM tracking_numbers%'");
      return rows.length > 0;
    }, 'the load to wait on the locked table');
    await new Promise((r) => setTimeout(r, 100)); // its other reads, the campaigns' among them, are done by now

    // The change, then a caller that must see it, then a bid applied in place while the earlier load still waits.
    await infra.pool.query("UPDATE campaigns SET active = false WHERE id = 'c'");
    let refreshed = false;
    const refresh = source.refreshNow().then(() => (refreshed = true));
    await source.applyCommittedBids(new Map([['t', { bidCents: 1234 }]]));
    expect(source.current().standingBids.get('t')?.bidCents).toBe(1234); // a new version, made in place
    expect(refreshed).toBe(false);

    await locker.query('ROLLBACK');
    locker.release();
    locker = undefined;
    await earlier;
    await refresh;
    expect(refreshed).toBe(true);
    expect(source.current().campaigns.get('c')?.active).toBe(false);
  } finally {
    if (locker) {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
    }
    await source.stop();
    subscriber.disconnect();
  }
});
