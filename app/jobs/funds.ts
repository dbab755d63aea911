/**
 * Buyers' available funds (balance + credit, cents) after a posting. Postgres is the truth; two copies follow it:
 * - Redis, for the fund holds (app/cache/fund-holds.ts): each figure with its funds version, written only over an
 *   older one, in the same script that releases the holds of the calls the posting settled;
 * - every node's memory (SnapshotSource), told over pub/sub, so a buyer whose settled funds no longer cover its
 *   bid is kept out of the auction without a lookup on the call path.
 */
import type { Redis } from 'ioredis';
import { FundHolds, type FundsFigure } from '../cache/fund-holds';

export const fundsChannel = (prefix: string): string => `${prefix}funds-changed`;

/**
 * Writes the figures (and releases the settled calls' holds) in Redis, then tells every node. `redis` is a
 * prefixed command connection. A failure to write rejects (the holds stay; the caller retries or logs).
 */
export async function publishFunds(redis: Redis, prefix: string, funds: ReadonlyMap<string, FundsFigure>, settled: ReadonlyArray<{ callId: string; buyerId: string }> = []): Promise<void> {
  await new FundHolds(redis).settle(funds, settled);
  if (funds.size === 0) return;
  const cents: Record<string, number> = {};
  for (const [id, f] of funds) cents[id] = f.cents;
  await redis.publish(fundsChannel(prefix), JSON.stringify(cents));
}
