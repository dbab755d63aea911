/**
 * A fraud job's seller hours counted in one script (app/jobs/seller-hours.ts) answer what SellerCallWindows answers
 * call by call, and leave the same sorted sets: the same calls (some short, some older than the keep window, one
 * repeated) go through each under sellers of their own, and every count and every set's members must match.
 */
import Redis from 'ioredis';
import { SellerCallWindows } from '../../app/cache/seller-call-windows';
import { recordSellerHours, type SellerCall } from '../../app/jobs/seller-hours';
import { createTestInfra, TEST_REDIS_URL, type TestInfra } from '../support/infra';

let infra: TestInfra;
let batched: Redis;

beforeAll(async () => {
  infra = await createTestInfra('seller_hours', { migrate: false });
  batched = new Redis(TEST_REDIS_URL, { keyPrefix: `${infra.prefix}batched:` });
});
afterAll(async () => {
  batched?.disconnect();
  await infra?.cleanup();
});

it('counts each call\'s seller hour in the job\'s order, as one call at a time does', async () => {
  const now = Date.now();
  const calls: SellerCall[] = [];
  // Two sellers' calls over five hours (so some fall out of the hour and some out of the three hours kept), in an
  // order that is not their starts' order, a third of them short, and one call twice (a retried job).
  for (let i = 0; i < 60; i++) {
    calls.push({ sellerId: i % 2 === 0 ? 'even' : 'odd', callId: `call-${i}`, startedAtMs: now - 5 * 3_600_000 + ((i * 37) % 60) * 300_000, short: i % 3 === 0 });
  }
  calls.push(calls[10]!);
  const windows = new SellerCallWindows(infra.redis);
  const one = [];
  for (const c of calls) one.push(await windows.recordAndCount(c.sellerId, c.callId, c.startedAtMs, c.short));
  const all = await recordSellerHours(batched, calls);
  expect(all).toEqual(one);
  expect(one.some((h) => h.short > 0 && h.calls > h.short)).toBe(true);
  for (const seller of ['even', 'odd']) {
    for (const set of ['ended', 'short']) {
      const key = `fraud:seller-${set}:${seller}`;
      expect(await batched.zrange(key, '0', '-1', 'WITHSCORES')).toEqual(await infra.redis.zrange(key, '0', '-1', 'WITHSCORES'));
      expect(await batched.pttl(key)).toBeGreaterThan(3 * 3_600_000 - 60_000);
    }
  }
});
