import type { ExchangeNode } from '../../app/exchange-node';
import { heartbeatKey } from '../../app/cache/node-heartbeat';
import type { LiveCall } from '../../app/cache/live-calls-registry';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { startTestNode } from '../support/node';
import { ScriptedSwitch, type ScriptedSwitchAdapter } from '../support/scripted-switch';

/**
 * Calls outlive the node that set them up. Nodes share one switch (a scripted double that keeps its calls
 * whatever happens to a node, as the real switches do); a node that dies or stops leaves its calls in the live-call
 * registry, and another node's sweeper adopts the bridged ones (recording their real end, billed once), sends
 * those still in setup to the fallback, closes those gone as node_lost, and gives the slots back.
 */
let infra: TestInfra;
const started: ExchangeNode[] = [];
const DID = '+18885550700';
let ani = 1000;

beforeAll(async () => {
  infra = await createTestInfra('adoption');
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: [DID], routing: 'first_price' });
  await seedTarget(infra.pool, { id: 't', buyerId: 'b', campaignId: 'c', bidCents: 700, capConcurrency: 5, convertOnSeconds: 1 });
});

beforeEach(async () => {
  await infra.redis.del('cap:t:conc'); // each scenario counts its own slots
});

afterAll(async () => {
  for (const n of started) await n.stop().catch(() => undefined);
  await infra?.cleanup();
});

/** A node on the shared switch. Sweeps are driven by the test unless `sweepMs` is given. */
async function node(sw: ScriptedSwitch, env: Record<string, string> = {}): Promise<{ node: ExchangeNode; adapter: ScriptedSwitchAdapter }> {
  const adapter = sw.adapter('test');
  const n = await startTestNode(infra, { NODE_HEARTBEAT_TTL_MS: '1000', SWEEP_INTERVAL_MS: '60000', ...env }, () => [adapter]);
  started.push(n);
  await n.sweeper.sweep(); // joins the sweep the node ran at start, so the test's own sweeps start afresh
  return { node: n, adapter };
}

const place = (sw: ScriptedSwitch, adapter: ScriptedSwitchAdapter) => sw.place(adapter, { ani: `+1813555${ani++}`, dnis: DID });
const slots = (n: ExchangeNode) => n.caps.concurrentCalls('t', Date.now());
const callRow = async (callId: string) => (await infra.pool.query('SELECT * FROM calls WHERE id = $1', [callId])).rows[0];

async function bridgedCall(sw: ScriptedSwitch, adapter: ScriptedSwitchAdapter) {
  const call = place(sw, adapter);
  await eventually(async () => call.bridgedAt !== undefined && call.callId, 'the call to be bridged');
  return call;
}

/** The call's record once the recorder wrote its end, and its billing row once billed. */
async function recordedEnd(n: ExchangeNode, callId: string) {
  return eventually(async () => {
    await n.recorder!.drain();
    const row = await callRow(callId);
    return row?.ended_at ? row : undefined;
  }, `call ${callId} to be recorded as ended`, 10_000);
}

async function billingRows(callId: string): Promise<{ billing: number; ledger: number; charge?: number }> {
  const billing = (await infra.pool.query('SELECT buyer_charge_cents FROM call_billing WHERE call_id = $1', [callId])).rows;
  const ledger = (await infra.pool.query("SELECT count(*)::int AS n FROM ledger_transactions WHERE call_id = $1 AND kind = 'call'", [callId])).rows[0].n;
  return { billing: billing.length, ledger, charge: billing[0] ? Number(billing[0].buyer_charge_cents) : undefined };
}

it('a routed call is in the live-call registry from its reservation to its journaled end, with the buyer that took it after a failover', async () => {
  await seedCampaign(infra.pool, { id: 'c2', sellerId: 's', dids: ['+18885550701'], routing: 'first_price' });
  await seedTarget(infra.pool, { id: 'busy-t', buyerId: 'b', campaignId: 'c2', bidCents: 900, capConcurrency: 3 });
  await seedTarget(infra.pool, { id: 'ok-t', buyerId: 'b', campaignId: 'c2', bidCents: 800, capConcurrency: 3 });
  const sw = new ScriptedSwitch();
  const a = await node(sw);
  await a.node.snapshots.refreshNow();
  const call = sw.place(a.adapter, { ani: '+18135550777', dnis: '+18885550701', behaviour: (uri) => (uri.includes('busy-t') ? { kind: 'busy' } : { kind: 'hold' }) });
  await eventually(async () => call.bridgedAt !== undefined, 'the call to be bridged by the second buyer');
  const entry = await eventually(async () => (await a.node.registry.own()).find((e) => e.callId === call.callId && e.state === 'bridged'), 'the bridged entry');
  expect(entry).toMatchObject({ switchName: 'test', switchCallId: call.leg.id, campaignId: 'c2', sellerAccountId: 's', winner: { targetId: 'ok-t', buyerAccountId: 'b', priceCents: 800 } });
  expect(entry.counters.map((c) => c.key)).toEqual(['cap:ok-t:conc']); // the busy buyer's slot was given back
  expect(new Date(entry.bridgedAt!).getTime()).toBe(call.bridgedAt!.getTime());
  call.leg.hangupByCaller();
  await eventually(async () => (await a.node.registry.own()).length === 0, 'the entry to be removed once the end is journaled');
  expect((await recordedEnd(a.node, call.callId!)).outcome).toBe('bridged');
  await a.node.stop();
});

it('a node killed mid-call: another node adopts its bridged call and records its real end, billed once; a call gone meanwhile is closed as node_lost; slots come back within 30 s', async () => {
  const sw = new ScriptedSwitch();
  const a = await node(sw);
  const talking = await bridgedCall(sw, a.adapter);
  const hungUpMeanwhile = await bridgedCall(sw, a.adapter);
  expect(await slots(a.node)).toBe(2);
  // A is killed: its flows are dropped unrecorded and its heartbeat is left to expire (no cleanup runs).
  await a.node.stop({ keepHeartbeat: true });
  hungUpMeanwhile.leg.hangupByCaller(); // nobody steers it: the switch alone sees the end

  const b = await node(sw, { SWEEP_INTERVAL_MS: '300' });
  const deadAt = Date.now();
  await eventually(async () => b.adapter.adopted.includes(talking.callId!), 'the bridged call to be adopted', 30_000);
  await eventually(async () => (await slots(b.node)) === 1, 'the lost call\'s slot to come back', 30_000);
  expect(Date.now() - deadAt).toBeLessThan(30_000);
  expect(b.adapter.adopted).toEqual([talking.callId]); // the one that is gone is not adopted

  const lost = await recordedEnd(b.node, hungUpMeanwhile.callId!);
  expect(lost).toMatchObject({ outcome: 'node_lost', end_reason: 'node_lost', billable_sec: 0, winner_buyer_id: 'b' });

  await new Promise((r) => setTimeout(r, 1_200)); // the adopted call goes on talking for a while
  talking.leg.hangupByCaller();
  const row = await recordedEnd(b.node, talking.callId!);
  const realDuration = Math.round((talking.leg.endInfo!.endedAt.getTime() - talking.bridgedAt!.getTime()) / 1000);
  expect(row).toMatchObject({ outcome: 'bridged', end_reason: 'caller_hangup', hung_up_by: 'caller', winner_buyer_id: 'b', billable_sec: realDuration });
  expect(realDuration).toBeGreaterThanOrEqual(1);
  expect(talking.leg.attempts).toHaveLength(1); // never auctioned or bridged again
  expect(await slots(b.node)).toBe(0);
  expect(await b.node.registry.own()).toEqual([]);
  await eventually(async () => (await billingRows(talking.callId!)).billing === 1, 'the adopted call to be billed', 10_000);
  expect(await billingRows(talking.callId!)).toEqual({ billing: 1, ledger: 1, charge: 700 });
  await b.node.stop();
});

it('graceful stop leaves bridged calls unrecorded and returns promptly; another node adopts them at once and records their true duration', async () => {
  const sw = new ScriptedSwitch();
  const a = await node(sw, { NODE_HEARTBEAT_TTL_MS: '60000' }); // a long TTL: only the deletion at stop lets B in at once
  const calls = [await bridgedCall(sw, a.adapter), await bridgedCall(sw, a.adapter)];
  const finished = await bridgedCall(sw, a.adapter);
  finished.leg.hangupByCaller(); // ends before the stop: recorded normally
  await recordedEnd(a.node, finished.callId!);

  const stopAt = Date.now();
  await a.node.stop();
  expect(Date.now() - stopAt).toBeLessThan(5_000);
  for (const c of calls) expect(c.leg.ended).toBe(false); // never hung up
  expect(await infra.redis.exists(heartbeatKey(a.node.heartbeat.incarnation))).toBe(0);

  const b = await node(sw); // its sweep at start finds A's heartbeat gone (deleted at stop, long before its TTL)
  expect(b.adapter.adopted.sort()).toEqual(calls.map((c) => c.callId).sort());
  await b.node.recorder!.drain();
  for (const c of calls) expect((await callRow(c.callId!)).ended_at).toBeNull(); // no early end in the record
  expect(await slots(b.node)).toBe(2); // kept for the adopter

  await new Promise((r) => setTimeout(r, 1_100));
  for (const c of calls) c.leg.hangupByCaller();
  for (const c of calls) {
    const row = await recordedEnd(b.node, c.callId!);
    const trueSec = Math.round((c.leg.endInfo!.endedAt.getTime() - c.bridgedAt!.getTime()) / 1000);
    expect(row).toMatchObject({ outcome: 'bridged', billable_sec: trueSec, hung_up_by: 'caller' });
    expect(new Date(row.ended_at).getTime()).toBe(c.leg.endInfo!.endedAt.getTime());
    expect(trueSec).toBeGreaterThanOrEqual(1);
  }
  expect(await slots(b.node)).toBe(0);
  await b.node.stop();
});

it('graceful stop records the end of a call that was not bridged (a reject prompt still playing) at the stop: nobody else would close it', async () => {
  const sw = new ScriptedSwitch();
  const a = await node(sw);
  sw.endlessPrompts = true;
  const rejected = sw.place(a.adapter, { ani: '+18135550888', dnis: '+18885550799' }); // not a tracking number
  await eventually(async () => (await a.node.registry.own()).length === 0 && a.node.flow.active === 1, 'the call to be rejected and its prompt playing');
  await new Promise((r) => setTimeout(r, 50));
  expect(rejected.leg.ended).toBe(false);
  await a.node.stop();
  const b = await node(sw);
  const row = await eventually(async () => {
    await b.node.recorder!.drain();
    return (await infra.pool.query("SELECT * FROM calls WHERE ani = '+18135550888' AND dnis = '+18885550799'")).rows[0];
  }, 'the rejected call to be recorded');
  expect(row).toMatchObject({ outcome: 'rejected', hung_up_by: 'system' });
  expect(row.ended_at).not.toBeNull();
  await b.node.stop();
});

it("a dead node's call still in setup is handed to the switch's fallback and closed as node_lost; one not on the switch is closed too; its slots come back; nothing is concluded while the switch cannot be listed", async () => {
  const sw = new ScriptedSwitch();
  const b = await node(sw);
  // Entries of a dead incarnation, with real reservations, as a node killed mid-setup leaves them.
  const dead = 'dead-node:0001';
  const counters = [{ kind: 'concurrency' as const, key: 'cap:t:conc', limit: 5, ttlSec: 0 }, { kind: 'daily' as const, key: 'cap:t:d:x', limit: 100, ttlSec: 3600 }];
  const entry = (callId: string): LiveCall => ({
    callId, switchName: 'test', switchCallId: `u-${callId}`, state: 'setup', direction: 'inbound', ani: '+18135559999', dnis: DID,
    startedAt: new Date(Date.now() - 3_000).toISOString(), campaignId: 'c', sellerAccountId: 's', winner: { targetId: 't', buyerAccountId: 'b', priceCents: 700 }, counters,
  });
  for (const id of ['ringing', 'vanished']) {
    expect((await b.node.caps.reserve(id, counters, Date.now())).ok).toBe(true);
    await infra.redis.hset(`live:calls:${dead}`, id, JSON.stringify(entry(id)));
  }
  await infra.redis.sadd('live:nodes', dead);
  const ringing = sw.park('ringing', 'u-ringing'); // its buyer was still ringing when its node died
  expect(await slots(b.node)).toBe(2);

  sw.listingFails = true;
  let report = await b.node.sweeper.sweep();
  expect(report).toMatchObject({ released: 0, closed: 0 });
  sw.listingFails = false;
  report = await b.node.sweeper.sweep();
  expect(report).toMatchObject({ claimed: 0, released: 1, closed: 1 }); // claimed by the failed sweep, settled now
  expect(b.adapter.released).toEqual(['ringing']);
  expect(ringing.releasedToFallback).toBe(true);
  await eventually(async () => (await slots(b.node)) === 0, 'the slots to come back');
  expect(Number(await infra.redis.get('cap:t:d:x'))).toBe(0); // never bridged: its daily count is given back too
  for (const id of ['ringing', 'vanished']) expect(await recordedEnd(b.node, id)).toMatchObject({ outcome: 'node_lost', billable_sec: 0 });
  expect(ringing.leg.attempts).toHaveLength(0); // never auctioned
  expect(ringing.leg.ended).toBe(false); // the fallback has it: never hung up by us
  await b.node.stop();
});

it('a switch handing over a call that already has our call id never gets it auctioned: a dead node\'s bridged call is adopted, a live node\'s is left alone', async () => {
  const sw = new ScriptedSwitch();
  const a = await node(sw);
  const talking = await bridgedCall(sw, a.adapter);
  const b = await node(sw);
  // While A is alive, B is handed the call (as Asterisk's reconcile does after a reconnect): left alone.
  const handed = sw.place(b.adapter, { ani: '+18135550001', dnis: DID, callId: talking.callId });
  await new Promise((r) => setTimeout(r, 200));
  expect(handed.leg.attempts).toHaveLength(0);
  expect(handed.leg.ended).toBe(false);
  expect(b.node.flow.isRunning(talking.callId!)).toBe(false);

  await a.node.stop({ keepHeartbeat: true });
  await eventually(async () => (await infra.redis.exists(heartbeatKey(a.node.heartbeat.incarnation))) === 0, 'A\'s heartbeat to expire');
  const again = sw.place(b.adapter, { ani: '+18135550001', dnis: DID, callId: talking.callId });
  await eventually(async () => b.node.flow.isRunning(talking.callId!), 'the handed-over call to be adopted');
  again.leg.hangupByCaller();
  const row = await recordedEnd(b.node, talking.callId!);
  expect(row).toMatchObject({ outcome: 'bridged', winner_buyer_id: 'b' });
  expect(again.leg.attempts).toHaveLength(0);
  const decisions = (await infra.pool.query('SELECT count(*)::int AS n FROM call_decisions WHERE call_id = $1', [talking.callId])).rows[0].n;
  expect(decisions).toBe(1); // one auction, by A
  await b.node.stop();
});

it('a bridged call on the switch that no registry lists (Redis lost it) is adopted from its open database record, by one node', async () => {
  const sw = new ScriptedSwitch();
  const a = await node(sw);
  const talking = await bridgedCall(sw, a.adapter);
  await a.node.recorder!.drain();
  await a.node.stop({ keepHeartbeat: true });
  await infra.redis.del(`live:calls:${a.node.heartbeat.incarnation}`); // the registry is lost

  const b = await node(sw);
  const c = await node(sw);
  // A call is adopted this way only once seen unregistered in two sweeps in a row (it may just be starting or ending).
  for (let i = 0; i < 3; i++) await Promise.all([b.node.sweeper.sweep(), c.node.sweeper.sweep()]);
  expect([...b.adapter.adopted, ...c.adapter.adopted]).toEqual([talking.callId]);
  talking.leg.hangupByCaller();
  const adopter = b.adapter.adopted.length ? b : c;
  const row = await recordedEnd(adopter.node, talking.callId!);
  expect(row).toMatchObject({ outcome: 'bridged', winner_buyer_id: 'b', winner_target_id: 't' });
  expect(row.billable_sec).toBeGreaterThanOrEqual(0);
  await eventually(async () => (await slots(adopter.node)) === 0, 'the slot to come back');
  await b.node.stop();
  await c.node.stop();
});
