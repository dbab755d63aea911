/**
 * A call longer than its concurrency lease (CONCURRENCY_LEASE_MS, 4 h) keeps its buyer's slot and fund hold: the
 * node renews the leases of the calls it holds. Through the FreeSWITCH peer, on a node whose clock the test moves
 * forward (the node reserves and sweeps leases on that clock) instead of waiting hours.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { CONCURRENCY_LEASE_MS } from '../../app/cache/cap-ledger';
import { concurrencyCapKey } from '../../app/domain/caps';
import { traceBuyers } from '../../app/exchange/trace';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const DID = '+18885550440';
const SOLO_LINE = '+15551230041';
const SOLO_TWO_LINE = '+15551230042';
const BACKUP_LINE = '+15551230043';
const HOUR = 3600 * 1000;
let offsetMs = 0;
const clock = (): Date => new Date(Date.now() + offsetMs);

beforeAll(async () => {
  infra = await createTestInfra('e2e_long_call');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  // solo's funds cover its first call (2000) but not that and a second at 1500 on its other target.
  await seedAccount(infra.pool, { id: 'solo', kind: 'buyer', balanceCents: 3000 });
  await seedAccount(infra.pool, { id: 'backup', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'long', sellerId: 'seller', dids: [DID], routing: 'first_price', floorCents: 100 });
  await seedTarget(infra.pool, { id: 'solo-t', buyerId: 'solo', campaignId: 'long', bidCents: 2000, destination: SOLO_LINE, capConcurrency: 1 });
  await seedTarget(infra.pool, { id: 'solo-two-t', buyerId: 'solo', campaignId: 'long', bidCents: 1500, destination: SOLO_TWO_LINE });
  await seedTarget(infra.pool, { id: 'backup-t', buyerId: 'backup', campaignId: 'long', bidCents: 1000, destination: BACKUP_LINE });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra, { clock, leaseRenewEveryMs: 100 });
  await eventually(async () => node.switches.every((s) => s.isConnected()), 'the switch control connection');
  for (const line of [SOLO_LINE, SOLO_TWO_LINE, BACKUP_LINE]) harness.setBuyer(line, { kind: 'answer', afterMs: 10 });
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

const callRow = (ani: string) =>
  eventually(async () => {
    await node.recorder!.drain();
    return (await infra.pool.query('SELECT c.*, d.trace FROM calls c JOIN call_decisions d ON d.call_id = c.id WHERE c.ani = $1 AND c.ended_at IS NOT NULL', [ani])).rows[0];
  }, 'the call to be recorded');

it('a call that talks past its lease keeps its buyer\'s concurrency slot and fund hold: a later call does not get that buyer', async () => {
  const long = harness.placeCall({ ani: '+13125550181', dnis: DID, hangupAfterBridgeMs: 60_000 });
  await eventually(async () => (await node.caps.concurrentCalls('solo-t', clock().getTime())) === 1 || undefined, 'the long call to hold solo\'s slot');
  expect(await node.fundHolds.heldFor('solo')).toBe(2000);

  // A stray registry entry (a call whose removal Redis refused: no flow runs it here) holding a slot of its own.
  const strayCounters = [{ kind: 'concurrency' as const, key: concurrencyCapKey('stray-t'), limit: 5, ttlSec: 0 }];
  expect((await node.caps.reserve('stray-call', strayCounters, clock().getTime())).ok).toBe(true);
  node.registry.put({ callId: 'stray-call', switchName: 'freeswitch', switchCallId: 'gone', state: 'bridged', direction: 'inbound', ani: '+13125550189', dnis: DID, startedAt: clock().toISOString(), counters: strayCounters });
  await eventually(async () => (await node.registry.own()).some((c) => c.callId === 'stray-call') || undefined, 'the stray entry');

  // Three hours in, the node has renewed the call's leases; five hours in (past the first lease), they still stand.
  offsetMs = 3 * HOUR;
  const renewedPast = clock().getTime() + CONCURRENCY_LEASE_MS - HOUR;
  await eventually(async () => (await node.caps.concurrentCalls('solo-t', renewedPast)) === 1 || undefined, 'the slot\'s lease to be renewed');
  // The stray entry's slot is not renewed: it lapses with its lease, as it did before renewals.
  expect(await node.caps.concurrentCalls('stray-t', renewedPast)).toBe(0);
  offsetMs = 5 * HOUR;

  const ani = '+13125550182';
  const later = await harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 50 }).finished;
  expect(later.bridgedTo).toContain(BACKUP_LINE);
  expect(later.bridgeTargets.some((t) => t.includes(SOLO_LINE) || t.includes(SOLO_TWO_LINE))).toBe(false);
  const row = await callRow(ani);
  expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'backup-t' });
  const seen = Object.fromEntries(traceBuyers(row.trace).map((b) => [b.targetId, b]));
  expect(seen['solo-t']).toMatchObject({ status: 'cap_reached', reason: 'cap_concurrency' });
  expect(seen['solo-two-t']).toMatchObject({ status: 'insufficient_funds' }); // the long call's 2000 is still held
  expect(await node.caps.concurrentCalls('solo-t', clock().getTime())).toBe(1);
  expect(await node.fundHolds.heldFor('solo')).toBe(2000);

  long.hangup();
  await long.finished;
  expect((await callRow('+13125550181')).winner_target_id).toBe('solo-t');
  await eventually(async () => (await node.caps.concurrentCalls('solo-t', clock().getTime())) === 0 || undefined, 'the slot to come back when the call ends');
});
