/**
 * Issue 13, "Funds are held", its acceptance test: 30 callers at once through the FreeSWITCH peer for a buyer
 * whose funds (balance + credit) cover 10 of its calls. Each bridged call's price is held against those funds
 * until billing charges it, so at most 10 are bridged, the buyer's balance never goes below -credit once all are
 * billed, and its holds net to zero. Before holds, all 30 were bridged and the buyer ended at -$400 past its credit.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { traceBuyers } from '../../app/exchange/trace';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
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

beforeAll(async () => {
  infra = await createTestInfra('e2e_funds');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'thin', kind: 'buyer', balanceCents: BALANCE, creditLimitCents: CREDIT });
  await seedCampaign(infra.pool, { id: 'held', sellerId: 'seller', dids: [DID], routing: 'first_price', payoutCents: 1000 });
  await seedTarget(infra.pool, { id: 'thin-t', buyerId: 'thin', campaignId: 'held', bidCents: PRICE, destination: BUYER_LINE, convertOnSeconds: 0 });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(BUYER_LINE, { kind: 'answer', afterMs: 10 });
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
