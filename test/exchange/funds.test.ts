import Redis from 'ioredis';
import type { ExchangeNode } from '../../app/exchange-node';
import { COMPLIANCE_LOADED_KEY } from '../../app/cache/compliance-keys';
import { FUNDS_LOADED_KEY } from '../../app/cache/fund-holds';
import { CONCURRENCY_LEASE_MS } from '../../app/cache/cap-ledger';
import { BillingWorker } from '../../app/jobs/billing-worker';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { ScriptedLeg } from '../support/scripted-leg';
import { startTestNode } from '../support/node';

/**
 * Fund holds are global: two exchange nodes share one Redis, and a buyer's calls in progress hold their price
 * against its funds (balance + credit) from the reservation until billing charges them, so concurrent calls can
 * never take it past its credit. Billing is off on both nodes so the holds can be seen between a call's end and
 * its charge; the billing test starts a worker of its own.
 */
let infra: TestInfra;
let nodes: ExchangeNode[] = [];
const THIN_DID = '+18885550300';
const FAILOVER_DID = '+18885550301';
const TWIN_DID = '+18885550302';
const RISING_DID = '+18885550303';

beforeAll(async () => {
  infra = await createTestInfra('funds');
  await seedAccount(infra.pool, { id: 's', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'thin', kind: 'buyer', balanceCents: 2000, creditLimitCents: 1000 }); // three calls at 1,000
  await seedAccount(infra.pool, { id: 'busy', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'stretched', kind: 'buyer', balanceCents: 2500 });
  await seedAccount(infra.pool, { id: 'deep', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'thin-c', sellerId: 's', dids: [THIN_DID], routing: 'first_price', payoutCents: 500 });
  await seedTarget(infra.pool, { id: 'thin-t', buyerId: 'thin', campaignId: 'thin-c', bidCents: 1000, convertOnSeconds: 0 });
  await seedCampaign(infra.pool, { id: 'failover-c', sellerId: 's', dids: [FAILOVER_DID], routing: 'first_price' });
  await seedTarget(infra.pool, { id: 'busy-t', buyerId: 'busy', campaignId: 'failover-c', bidCents: 3000, capConcurrency: 1 });
  await seedTarget(infra.pool, { id: 'stretched-t', buyerId: 'stretched', campaignId: 'failover-c', bidCents: 2000 });
  await seedTarget(infra.pool, { id: 'deep-t', buyerId: 'deep', campaignId: 'failover-c', bidCents: 1000 });
  // One buyer with two targets on a campaign: a failed bridge to the first, then the second for the same buyer.
  await seedAccount(infra.pool, { id: 'twin', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'twin-c', sellerId: 's', dids: [TWIN_DID], routing: 'first_price' });
  await seedTarget(infra.pool, { id: 'twin-a', buyerId: 'twin', campaignId: 'twin-c', bidCents: 1500, capConcurrency: 1 });
  await seedTarget(infra.pool, { id: 'twin-b', buyerId: 'twin', campaignId: 'twin-c', bidCents: 1000 });
  // One buyer whose second target, ranked lower (its quality halves its score), costs more than the first.
  await seedAccount(infra.pool, { id: 'rising', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'rising-c', sellerId: 's', dids: [RISING_DID], routing: 'first_price' });
  await seedTarget(infra.pool, { id: 'rising-lo', buyerId: 'rising', campaignId: 'rising-c', bidCents: 1000, qualityScore: 1 });
  await seedTarget(infra.pool, { id: 'rising-hi', buyerId: 'rising', campaignId: 'rising-c', bidCents: 1800, qualityScore: 0.5 });
  const env = { BILLING_WORKER_ENABLED: 'false' };
  nodes = [await startTestNode(infra, env), await startTestNode(infra, env)];
});

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await infra?.cleanup();
});

const info = (leg: ScriptedLeg, ani: string, dnis: string) => ({ switchCallId: leg.id, switchName: 'test', ani, dnis, direction: 'inbound' as const });

it('two nodes reserving at once for a nearly-empty buyer never hold more than its funds; the holds outlive the calls until billing charges them', async () => {
  const legs = Array.from({ length: 20 }, (_, i) => new ScriptedLeg(`thin-${i}`, () => ({ kind: 'hold' })));
  const runs = legs.map((leg, i) => nodes[i % 2]!.flow.run(leg, info(leg, `+1813558${String(1000 + i)}`, THIN_DID)));
  await eventually(async () => legs.every((l) => l.bridged.length > 0 || l.ended), 'every call bridged or turned away', 10_000);
  const bridged = legs.filter((l) => l.bridged.length > 0);
  expect(bridged).toHaveLength(3);
  expect(await nodes[1]!.fundHolds.funds('thin')).toEqual({ availableCents: 3000, version: 0, heldCents: 3000 });

  // The calls end; nothing is charged yet, so the holds stay (no moment when neither hold nor charge counts).
  for (const l of bridged) l.hangupByCaller();
  await Promise.all(runs);
  for (const n of nodes) await n.recorder!.drain();
  expect(await nodes[0]!.fundHolds.heldFor('thin')).toBe(3000);
  const again = new ScriptedLeg('thin-again', () => ({ kind: 'hold' }));
  await nodes[0]!.flow.run(again, info(again, '+18135589999', THIN_DID));
  expect(again.bridged).toEqual([]);

  // Billing charges the three calls and, in the script that writes the lowered figure, releases their holds.
  const worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
  worker.start();
  try {
    await eventually(async () => (await nodes[0]!.fundHolds.heldFor('thin')) === 0, 'billing to settle the holds', 10_000);
  } finally {
    await worker.stop();
  }
  const { rows } = await infra.pool.query("SELECT balance_cents::int AS balance, funds_version::int AS version FROM accounts WHERE id = 'thin'");
  expect(rows[0].balance).toBe(-1000); // 2,000 - 3 x 1,000: exactly its credit
  expect(await nodes[0]!.fundHolds.funds('thin')).toEqual({ availableCents: 0, version: rows[0].version, heldCents: 0 });
  expect(rows[0].version).toBeGreaterThan(0);
});

it('fails over past a buyer whose funds, less what its calls in progress hold, cannot cover the price, and releases a failed bridge\'s hold', async () => {
  // 'stretched' has 2,500 settled but another call of its holds 1,000: 1,500 left for a 2,000 call.
  const other = await nodes[1]!.caps.reserve('a-call-of-stretched', [], Date.now(), { buyerId: 'stretched', cents: 1000 });
  expect(other.ok).toBe(true);
  const leg = new ScriptedLeg('failover', (uri) => (uri.includes('busy-t') ? { kind: 'busy' } : { kind: 'hold' }));
  const run = nodes[0]!.flow.run(leg, info(leg, '+18135587001', FAILOVER_DID));
  await eventually(async () => leg.bridged.length > 0, 'the call to be bridged');
  expect(leg.attempts.map((a) => a.uri)).toEqual(['sip:busy-t@buyers.example', 'sip:deep-t@buyers.example']);
  expect(await nodes[0]!.fundHolds.heldFor('busy')).toBe(0); // released with its cap reservation when the bridge failed
  expect(await nodes[0]!.fundHolds.heldFor('stretched')).toBe(1000); // only the other call's
  expect(await nodes[0]!.fundHolds.heldFor('deep')).toBe(1000);
  leg.hangupByCaller();
  await run;

  await nodes[0]!.recorder!.drain();
  const attempts = await infra.pool.query("SELECT a.target_id, a.status, a.cause FROM bridge_attempts a JOIN calls c ON c.id = a.call_id WHERE c.ani = '+18135587001' ORDER BY a.attempt_no");
  expect(attempts.rows).toEqual([
    { target_id: 'busy-t', status: 'busy', cause: 'USER_BUSY' },
    { target_id: 'stretched-t', status: 'insufficient_funds', cause: 'insufficient_funds' },
    { target_id: 'deep-t', status: 'bridged', cause: null },
  ]);
  // (A skip during failover is in the attempts; the decision's trace, journaled before, shows skips of the first trip.)
  await nodes[1]!.fundHolds.release('a-call-of-stretched', 'stretched');
  await nodes[1]!.fundHolds.release('a-call-of-stretched', 'stretched'); // twice is harmless
  expect(await nodes[1]!.fundHolds.heldFor('stretched')).toBe(0);
});

it('a failed bridge whose release Redis refused gives back its slot and hold moments later, not after their 4 h lease', async () => {
  const node = nodes[0]!;
  // Redis refuses the release when the first buyer is busy (a blip); the call fails over and is bridged.
  const release = jest.spyOn(node.caps, 'release').mockRejectedValueOnce(new Error('Connection is closed.'));
  const leg = new ScriptedLeg('release-retried', (uri) => (uri.includes('busy-t') ? { kind: 'busy' } : { kind: 'hold' }));
  try {
    const run = node.flow.run(leg, info(leg, '+18135587003', FAILOVER_DID));
    await eventually(async () => leg.bridged.length > 0, 'the call to be bridged');
    expect(leg.attempts.map((a) => a.uri)).toEqual(['sip:busy-t@buyers.example', 'sip:stretched-t@buyers.example']);
    // Retried in the background: the busy buyer's slot and hold come back without billing.
    await eventually(async () => (await node.fundHolds.heldFor('busy')) === 0 && (await node.caps.concurrentCalls('busy-t', Date.now())) === 0, 'the slot and the hold to be given back', 3_000);
    expect(release.mock.calls.length).toBeGreaterThanOrEqual(2);
    leg.hangupByCaller();
    await run;
  } finally {
    release.mockRestore();
  }
  await node.recorder!.drain();
});

it('a release Redis refused is not retried against the hold of the buyer the call then bridged to (one hold per call and buyer)', async () => {
  const node = nodes[0]!;
  const release = jest.spyOn(node.caps, 'release').mockRejectedValueOnce(new Error('Connection is closed.'));
  const leg = new ScriptedLeg('twin', (uri) => (uri.includes('twin-a') ? { kind: 'busy' } : { kind: 'hold' }));
  try {
    const run = node.flow.run(leg, info(leg, '+18135587004', TWIN_DID));
    await eventually(async () => leg.bridged.length > 0, 'the call to be bridged');
    expect(leg.attempts.map((a) => a.uri)).toEqual(['sip:twin-a@buyers.example', 'sip:twin-b@buyers.example']);
    // The first target's slot comes back; the buyer's hold stays with the bridged call after the retries' window.
    await eventually(async () => (await node.caps.concurrentCalls('twin-a', Date.now())) === 0, 'the slot to be given back', 3_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await node.fundHolds.heldFor('twin')).toBe(1000); // the price bridged (twin-b's), not twin-a's 1500
    leg.hangupByCaller();
    await run;
  } finally {
    release.mockRestore();
  }
  await node.recorder!.drain();
});

it('failing over to another target of the same buyer at a higher price, the buyer\'s hold is the price bridged, whether Redis gave the first hold back or refused to', async () => {
  const node = nodes[0]!;
  const place = async (name: string, ani: string, refuseRelease: boolean): Promise<void> => {
    const release = refuseRelease ? jest.spyOn(node.caps, 'release').mockRejectedValueOnce(new Error('Connection is closed.')) : undefined;
    const leg = new ScriptedLeg(name, (uri) => (uri.includes('rising-lo') ? { kind: 'busy' } : { kind: 'hold' }));
    try {
      const run = node.flow.run(leg, info(leg, ani, RISING_DID));
      await eventually(async () => leg.bridged.length > 0, 'the call to be bridged');
      expect(leg.attempts.map((a) => a.uri)).toEqual(['sip:rising-lo@buyers.example', 'sip:rising-hi@buyers.example']);
      if (release) expect(release).toHaveBeenCalled();
      await new Promise((r) => setTimeout(r, 500)); // past any background retry of the refused release
      expect(await node.fundHolds.heldFor('rising')).toBe(1800);
      leg.hangupByCaller();
      await run;
    } finally {
      release?.mockRestore();
    }
    await node.recorder!.drain();
    const call = (await infra.pool.query('SELECT id, winner_target_id, price_cents::int AS price_cents FROM calls WHERE ani = $1', [ani])).rows[0];
    expect(call).toMatchObject({ winner_target_id: 'rising-hi', price_cents: 1800 });
    await node.fundHolds.release(call.id, 'rising'); // as billing would
    expect(await node.fundHolds.heldFor('rising')).toBe(0);
  };
  await place('rising-released', '+18135587005', false);
  await place('rising-refused', '+18135587006', true);
});

it('a failed bridge whose release Redis keeps refusing does not keep its buyer\'s funds held: billing releases every buyer the call rang', async () => {
  const node = nodes[0]!;
  // Every release of the busy buyer's hold from the call path fails (its retries too); billing's script still runs.
  const original = node.caps.release.bind(node.caps);
  const release = jest.spyOn(node.caps, 'release').mockImplementation((callId, counters, hold) => (hold?.buyerId === 'busy' ? Promise.reject(new Error('Connection is closed.')) : original(callId, counters, hold)));
  const worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix });
  try {
    const leg = new ScriptedLeg('release-refused', (uri) => (uri.includes('busy-t') ? { kind: 'busy' } : { kind: 'hold' }));
    const run = node.flow.run(leg, info(leg, '+18135587002', FAILOVER_DID));
    await eventually(async () => leg.bridged.length > 0, 'the call to be bridged');
    expect(release).toHaveBeenCalled();
    expect(await node.fundHolds.heldFor('busy')).toBe(3000); // left behind: its lease would keep it for hours
    leg.hangupByCaller();
    await run;
    await node.recorder!.drain();

    worker.start();
    await eventually(async () => (await node.fundHolds.heldFor('busy')) === 0, 'billing to release the busy buyer\'s hold', 10_000);
  } finally {
    await worker.stop();
    release.mockRestore();
  }
  const leftover = Object.keys(await infra.redis.hgetall('funds:busy')).filter((f) => f.startsWith('h:'));
  expect(leftover).toEqual([]);
});

it('holds once per call, and a hold its node never released is swept when its lease expires, correcting the total', async () => {
  const caps = nodes[0]!.caps;
  const now = Date.now();
  expect((await caps.reserve('twice', [], now, { buyerId: 'deep', cents: 700 })).ok).toBe(true);
  expect((await caps.reserve('twice', [], now, { buyerId: 'deep', cents: 700 })).ok).toBe(true);
  const before = await nodes[0]!.fundHolds.heldFor('deep');
  // A hold taken a lease ago (its node died and nothing released it) ...
  expect((await caps.reserve('orphan', [], now - CONCURRENCY_LEASE_MS - 1, { buyerId: 'deep', cents: 500 })).ok).toBe(true);
  expect(await nodes[0]!.fundHolds.heldFor('deep')).toBe(before + 500);
  // ... is gone at the next reservation for that buyer.
  expect((await caps.reserve('next', [], now, { buyerId: 'deep', cents: 1 })).ok).toBe(true);
  expect(await nodes[0]!.fundHolds.heldFor('deep')).toBe(before + 1);
  await caps.release('twice', [], { buyerId: 'deep', cents: 700 });
  await caps.release('next', [], { buyerId: 'deep', cents: 1 });
  expect(await nodes[0]!.fundHolds.heldFor('deep')).toBe(before - 700);
});

it('keeps the newest funds figure: a credit change reaches Redis at the next load, and a stale write is ignored', async () => {
  const holds = nodes[0]!.fundHolds;
  const start = (await holds.funds('busy'))!;
  await infra.pool.query("UPDATE accounts SET credit_limit_cents = 50000 WHERE id = 'busy'");
  await nodes[1]!.snapshots.refreshNow();
  const raised = (await holds.funds('busy'))!;
  expect(raised).toMatchObject({ availableCents: start.availableCents + 50_000, version: start.version + 1 });
  // A writer that read before the change (a late billing publish, a slow snapshot load) cannot put its figure back.
  expect(await holds.settle(new Map([['busy', { cents: start.availableCents, version: start.version }]]))).toBe(0);
  expect(await holds.settle(new Map([['busy', { cents: 1, version: raised.version }]]))).toBe(0);
  expect((await holds.funds('busy'))!.availableCents).toBe(start.availableCents + 50_000);
  expect(await holds.settle(new Map([['busy', { cents: 42, version: raised.version + 1 }]]))).toBe(1);
  expect((await holds.funds('busy'))!.availableCents).toBe(42);
});

it('a Redis emptied without dropping the connection (FLUSHALL) has the funds figures and compliance lists back within seconds', async () => {
  // This file's keys only (other test files share the server): the figures, the compliance lists, their markers.
  const raw = new Redis(TEST_REDIS_URL);
  try {
    const keys = [...(await raw.keys(`${infra.prefix}funds*`)), ...(await raw.keys(`${infra.prefix}compliance*`))];
    expect(keys).toEqual(expect.arrayContaining([`${infra.prefix}${FUNDS_LOADED_KEY}`, `${infra.prefix}${COMPLIANCE_LOADED_KEY}`]));
    await raw.del(...keys);
  } finally {
    raw.disconnect();
  }
  const lost = Date.now();
  // No reconnect, so no 'ready': each node looks for the markers every 2 s.
  await eventually(async () => (await infra.redis.exists(COMPLIANCE_LOADED_KEY)) === 1 && (await nodes[0]!.fundHolds.funds('twin')) !== undefined, 'the figures and lists to be back in redis', 4_000);
  const leg = new ScriptedLeg('after-flush', () => ({ kind: 'hold' }));
  const run = nodes[0]!.flow.run(leg, info(leg, '+18135587005', TWIN_DID));
  await eventually(async () => leg.bridged.length > 0 || leg.ended, 'the call to be bridged or turned away');
  expect(leg.bridged.length).toBe(1);
  expect(Date.now() - lost).toBeLessThan(5_000); // not the minute of the next timed snapshot reload
  leg.hangupByCaller();
  await run;
});
