/**
 * Issue 13, "Funds are held", its acceptance test: 30 callers at once through the FreeSWITCH peer for a buyer
 * whose funds (balance + credit) cover 10 of its calls. Each bridged call's price is held against those funds
 * until billing charges it, so at most 10 are bridged, the buyer's balance never goes below -credit once all are
 * billed, and its holds net to zero. Before holds, all 30 were bridged and the buyer ended at -$400 past its credit.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { traceBuyers } from '../../app/exchange/trace';
import Redis from 'ioredis';
import { FUNDS_LOADED_KEY } from '../../app/cache/fund-holds';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const DID = '+18885550430';
const BUYER_LINE = '+15551230031';
const PRICE = 2000;
const BALANCE = 15_000;
const CREDIT = 5_000; // funds 20,000: ten calls at 2,000
const STEADY_DID = '+18885550431';
const STEADY_LINE = '+15551230032';

beforeAll(async () => {
  infra = await createTestInfra('e2e_funds');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'thin', kind: 'buyer', balanceCents: BALANCE, creditLimitCents: CREDIT });
  await seedCampaign(infra.pool, { id: 'held', sellerId: 'seller', dids: [DID], routing: 'first_price', payoutCents: 1000 });
  await seedTarget(infra.pool, { id: 'thin-t', buyerId: 'thin', campaignId: 'held', bidCents: PRICE, destination: BUYER_LINE, convertOnSeconds: 0 });
  await seedAccount(infra.pool, { id: 'steady', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'steady-c', sellerId: 'seller', dids: [STEADY_DID], routing: 'first_price', payoutCents: 1000 });
  await seedTarget(infra.pool, { id: 'steady-t', buyerId: 'steady', campaignId: 'steady-c', bidCents: PRICE, destination: STEADY_LINE });
  harness = new FreeSwitchHarness();
  // Redis's markers are looked for on reconnect only here: the periodic check has its test in test/exchange/funds.test.ts.
  node = await harness.start(infra, { redisRefillCheckMs: 3_600_000 });
  harness.setBuyer(BUYER_LINE, { kind: 'answer', afterMs: 10 });
  harness.setBuyer(STEADY_LINE, { kind: 'answer', afterMs: 10 });
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

it('30 calls at once for a buyer whose funds cover 10: 10 bridged, the balance stays within credit, the holds net to zero', async () => {
  let maxHeld = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxHeld = Math.max(maxHeld, await node.fundHolds.heldFor('thin'));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  // The callers talk 1.5 s after the bridge: every call is decided while the first ten are still up.
  const calls = Array.from({ length: 30 }, (_, i) => harness.placeCall({ ani: `+1813555${String(5000 + i)}`, dnis: DID, hangupAfterBridgeMs: 1500 }).finished);
  const results = await Promise.all(calls);
  sampling = false;
  await sampler;

  const bridged = results.filter((r) => r.bridgedTo);
  expect(bridged).toHaveLength(10);
  expect(maxHeld).toBeLessThanOrEqual(BALANCE + CREDIT);
  expect(maxHeld).toBeGreaterThan(0);

  // Every call billed (the 20 refused as not bridged), the buyer charged ten times and no more.
  const billed = await eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE converted)::int AS paid FROM call_billing');
    return rows[0].n === 30 ? rows[0] : undefined;
  }, 'all 30 calls to be billed', 20_000);
  expect(billed.paid).toBe(10);
  const { rows } = await infra.pool.query("SELECT balance_cents::int AS balance, funds_version::int AS version FROM accounts WHERE id = 'thin'");
  expect(rows[0].balance).toBe(BALANCE - 10 * PRICE);
  expect(rows[0].balance).toBeGreaterThanOrEqual(-CREDIT);

  // Billing released every hold in the script that wrote the lowered figure.
  await eventually(async () => (await node.fundHolds.heldFor('thin')) === 0, 'the holds to net to zero');
  expect(await node.fundHolds.funds('thin')).toEqual({ availableCents: 0, version: rows[0].version, heldCents: 0 });
  const leftover = Object.keys(await infra.redis.hgetall('funds:thin')).filter((f) => f.startsWith('h:'));
  expect(leftover).toEqual([]);
  expect(await infra.redis.zcard('funds:thin:leases')).toBe(0);

  // A refused call says why: its only buyer could not cover the price with what its calls in progress held.
  const refused = await infra.pool.query("SELECT d.trace FROM call_decisions d JOIN calls c ON c.id = d.call_id WHERE c.outcome = 'rejected' LIMIT 1");
  expect(traceBuyers(refused.rows[0].trace)[0]).toMatchObject({ targetId: 'thin-t', status: 'insufficient_funds', reason: 'insufficient_funds' });
}, 60_000);

it('a Redis back without the funds figures gets them from Postgres as soon as the node reconnects: calls bridge again within a second or two', async () => {
  const call = (ani: string) => harness.placeCall({ ani, dnis: STEADY_DID, hangupAfterBridgeMs: 50 }).finished;
  expect((await call('+18135556001')).bridgedTo).toBeDefined();

  // Redis comes back empty (this file's keys only: other test files share the server): no figures, no marker.
  const raw = new Redis(TEST_REDIS_URL);
  try {
    const keys = await raw.keys(`${infra.prefix}funds*`);
    expect(keys).toContain(`${infra.prefix}${FUNDS_LOADED_KEY}`);
    await raw.del(...keys);
  } finally {
    raw.disconnect();
  }
  // Funds fail closed: with no figure the buyer cannot be held against, so its call is refused.
  expect((await call('+18135556002')).bridgedTo).toBeUndefined();

  // The node's connection drops and comes back (as after a restart or a failover): the figures are written at once.
  const dropped = Date.now();
  node.redis.disconnect(true);
  await eventually(async () => (await node.fundHolds.loaded()) && (await node.fundHolds.funds('steady')) !== undefined, 'the funds figures to be back in redis', 2_000);
  expect((await call('+18135556003')).bridgedTo).toBeDefined();
  expect(Date.now() - dropped).toBeLessThan(3_000); // not the minute of the next timed snapshot reload
}, 30_000);
