/**
 * Buyers' available funds (balance + credit, cents) for routing. Postgres is the truth and every snapshot reads
 * it; between snapshots the billing worker publishes each change over Redis and every node keeps the figures in
 * memory (SnapshotSource), so a buyer out of funds stops winning on its next call without a lookup on the call
 * path.
 */
import type { Redis } from 'ioredis';

export const fundsChannel = (prefix: string): string => `${prefix}funds-changed`;

export async function publishFunds(redis: Redis, prefix: string, funds: ReadonlyMap<string, number>): Promise<void> {
  if (funds.size === 0) return;
  await redis.publish(fundsChannel(prefix), JSON.stringify(Object.fromEntries(funds)));
}
