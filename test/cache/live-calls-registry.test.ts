import { Writable } from 'node:stream';
import pino from 'pino';
import os from 'node:os';
import { silentLogger } from '../../app/observability/logger';
import { LiveCallsRegistry, type LiveCall } from '../../app/cache/live-calls-registry';
import { LAST_BEAT_KEY, NodeHeartbeat, heartbeatKey, newIncarnation } from '../../app/cache/node-heartbeat';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';

/** The live-call registry and node heartbeats on the real Redis: who may take a dead node's calls, and only once. */
let infra: TestInfra;

beforeAll(async () => {
  infra = await createTestInfra('live_registry', { migrate: false });
});

afterAll(async () => {
  await infra?.cleanup();
});

const entry = (callId: string, switchName = 'freeswitch'): LiveCall => ({
  callId, switchName, switchCallId: `u-${callId}`, state: 'bridged', direction: 'inbound', ani: '+18135550100', dnis: '+18885550100',
  startedAt: new Date().toISOString(), campaignId: 'c', sellerAccountId: 's', winner: { targetId: 't', buyerAccountId: 'b', priceCents: 500 },
  counters: [{ kind: 'concurrency', key: 'cap:t:conc', limit: 5, ttlSec: 0 }], bridgedAt: new Date().toISOString(),
});

const registry = (incarnation: string): LiveCallsRegistry => new LiveCallsRegistry(infra.redis, incarnation, silentLogger());

it('an incarnation is NODE_ID plus a boot-random suffix; its heartbeat expires when the node stops beating and is deleted at stop', async () => {
  const a = newIncarnation('node-a');
  expect(a).toMatch(/^node-a:[0-9a-f]{8}$/);
  expect(newIncarnation('node-a')).not.toBe(a);
  const hb = new NodeHeartbeat(infra.redis, a, { ttlMs: 400, everyMs: 100 }, silentLogger());
  await hb.start();
  await new Promise((r) => setTimeout(r, 700)); // past the TTL: refreshed meanwhile
  expect(await infra.redis.exists(heartbeatKey(a))).toBe(1);
  await hb.stop({ keepKey: true }); // as a killed node: the key outlives it, then expires
  expect(await infra.redis.exists(heartbeatKey(a))).toBe(1);
  await eventually(async () => (await infra.redis.exists(heartbeatKey(a))) === 0, 'the heartbeat to expire', 2_000);

  const b = newIncarnation('node-b');
  const hbB = new NodeHeartbeat(infra.redis, b, { ttlMs: 10_000 }, silentLogger());
  await hbB.start();
  await hbB.stop();
  expect(await infra.redis.exists(heartbeatKey(b))).toBe(0); // deleted at once
});

it('a node whose heartbeat expired while it was up says so loudly at its next beat, and beats on', async () => {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
  const inc = newIncarnation('stalled');
  const hb = new NodeHeartbeat(infra.redis, inc, { ttlMs: 300, everyMs: 150 }, pino({ level: 'warn' }, sink));
  await hb.start();
  await new Promise((r) => setTimeout(r, 400));
  expect(lines).toEqual([]); // refreshed in time
  await infra.redis.del(heartbeatKey(inc)); // as if it had expired during a stall
  await eventually(async () => lines.some((l) => l.level === 50 && /expired while this node was up/.test(l.msg)), 'the expiry to be logged', 2_000);
  expect(await infra.redis.exists(heartbeatKey(inc))).toBe(1);
  await hb.stop();
});

it("two nodes claiming one dead node's calls at once split them: each call is claimed exactly once; nothing moves while the owner beats", async () => {
  const dead = registry('dead:1');
  await dead.join();
  const hb = new NodeHeartbeat(infra.redis, 'dead:1', { ttlMs: 10_000 }, silentLogger());
  await hb.start();
  const ids = Array.from({ length: 200 }, (_, i) => `call-${i}`);
  for (const id of ids) dead.put(entry(id));
  dead.put(entry('ast-1', 'asterisk'));
  await eventually(async () => (await dead.own()).length === 201, 'the entries to be written');

  const b = registry('b:1');
  const c = registry('c:1');
  await b.join();
  await c.join();
  expect(await b.claim('dead:1', ['freeswitch'])).toEqual([]); // alive: nothing moves
  expect(await b.deadNodes()).not.toContain('dead:1');

  await hb.stop(); // the node stops: its key goes at once
  expect(await b.deadNodes()).toContain('dead:1');
  const [byB, byC] = await Promise.all([b.claim('dead:1', ['freeswitch']), c.claim('dead:1', ['freeswitch'])]);
  const claimed = [...byB, ...byC].map((e) => e.callId).sort();
  expect(claimed).toEqual([...ids].sort());
  expect(byB.length === 0 || byC.length === 0).toBe(true); // one script wins the whole lot
  expect(new Set(claimed).size).toBe(200);
  // Entries keep what is needed to finish the call, and now live under the claimer.
  const winner = byB.length > 0 ? b : c;
  expect((await winner.own()).find((e) => e.callId === 'call-7')).toMatchObject({ winner: { buyerAccountId: 'b', priceCents: 500 }, counters: [{ key: 'cap:t:conc' }] });
  // The asterisk call stays for a node that drives Asterisk; the dead node is listed until it holds nothing.
  expect(await b.nodes()).toContain('dead:1');
  expect((await c.claim('dead:1', ['asterisk'])).map((e) => e.callId)).toEqual(['ast-1']);
  expect(await b.nodes()).not.toContain('dead:1');
  expect(await b.allCallIds()).toEqual(new Set([...ids, 'ast-1']));
});

it("a dead node's last beat outlives its heartbeat key, is stamped on each entry claimed (a claimer's unsettled entry keeps its first owner's), and goes once all its entries are claimed", async () => {
  const dead = registry('lost:1');
  await dead.join();
  const hb = new NodeHeartbeat(infra.redis, 'lost:1', { ttlMs: 300, everyMs: 100 }, silentLogger());
  await hb.start();
  dead.put(entry('lost-fs'));
  dead.put({ ...entry('lost-ast', 'asterisk'), counters: [] });
  await eventually(async () => (await dead.own()).length === 2, 'the entries to be written');
  await new Promise((r) => setTimeout(r, 250));
  await hb.stop({ keepKey: true }); // killed: its key expires, its last beat stays
  const lastBeat = Number(await infra.redis.hget(LAST_BEAT_KEY, 'lost:1'));
  expect(Date.now() - lastBeat).toBeLessThan(200);
  await eventually(async () => (await infra.redis.exists(heartbeatKey('lost:1'))) === 0, 'the heartbeat to expire', 2_000);
  expect(Number(await infra.redis.hget(LAST_BEAT_KEY, 'lost:1'))).toBe(lastBeat);

  const first = registry('claimer:1');
  await first.join();
  expect(await first.claim('lost:1', ['freeswitch'])).toMatchObject([{ callId: 'lost-fs', lastSeenAt: lastBeat }]);
  expect(await infra.redis.hexists(LAST_BEAT_KEY, 'lost:1')).toBe(1); // its asterisk entry is not claimed yet
  const ast = await first.claim('lost:1', ['asterisk']);
  expect(ast).toMatchObject([{ callId: 'lost-ast', lastSeenAt: lastBeat, counters: [] }]);
  expect(await infra.redis.hexists(LAST_BEAT_KEY, 'lost:1')).toBe(0);
  // The claimer dies before settling them (it beat later, but never watched them): the next claimer keeps the first owner's time.
  await infra.redis.hset(LAST_BEAT_KEY, 'claimer:1', String(lastBeat + 5_000));
  const next = registry('claimer:2');
  const again = await next.claim('claimer:1', ['freeswitch', 'asterisk']);
  expect(again.map((e) => [e.callId, e.lastSeenAt]).sort()).toEqual([['lost-ast', lastBeat], ['lost-fs', lastBeat]]);
  expect(await infra.redis.hexists(LAST_BEAT_KEY, 'claimer:1')).toBe(0);
});

it("a node restarted on the same host takes its predecessor's calls at once (that process is gone), while one on another host waits for the key to expire", async () => {
  const me = registry('restarted:1');
  await me.join();
  const beat = (host: string, pid: number) => JSON.stringify({ host, pid, at: Date.now() });
  // A process on this host that no longer exists (a pid far above any in use), one on another host, and one in
  // this very process that is not running (a previous incarnation of a process restarted under the same pid).
  const owners = { crashedHere: 'crashed-here:1', elsewhere: 'elsewhere:1', samePid: 'same-pid:1' };
  await infra.redis.set(heartbeatKey(owners.crashedHere), beat(os.hostname(), 2 ** 22 + 12345), 'PX', 60_000);
  await infra.redis.set(heartbeatKey(owners.elsewhere), beat('another-host', 1), 'PX', 1_000);
  await infra.redis.set(heartbeatKey(owners.samePid), beat(os.hostname(), process.pid), 'PX', 60_000);
  for (const [name, owner] of Object.entries(owners)) {
    const r = registry(owner);
    await r.join();
    r.put(entry(`${name}-call`));
  }
  await eventually(async () => (await me.allCallIds()).size >= 3, 'the entries to be written');
  const dead = await me.deadNodes();
  expect(dead).toEqual(expect.arrayContaining([owners.crashedHere, owners.samePid]));
  expect(dead).not.toContain(owners.elsewhere);
  expect((await me.claim(owners.crashedHere, ['freeswitch'])).map((e) => e.callId)).toEqual(['crashedHere-call']);
  expect(await infra.redis.exists(heartbeatKey(owners.crashedHere))).toBe(0); // seen dead by every node now
  expect(await me.claim(owners.elsewhere, ['freeswitch'])).toEqual([]); // its key still there
  await eventually(async () => (await me.deadNodes()).includes(owners.elsewhere), 'the other host\'s key to expire', 3_000);
  expect((await me.claim(owners.elsewhere, ['freeswitch'])).map((e) => e.callId)).toEqual(['elsewhere-call']);
});

it('takes one call from a dead owner but never from a live one; a call no registry lists is marked for adoption by one node only', async () => {
  const owner = registry('owner:1');
  await owner.join();
  const hb = new NodeHeartbeat(infra.redis, 'owner:1', { ttlMs: 10_000 }, silentLogger());
  await hb.start();
  owner.put(entry('x'));
  const me = registry('me:1');
  await me.join();
  await eventually(async () => (await me.find('x'))?.owner === 'owner:1', 'the entry to be found under its owner');
  expect(await me.take('x', 'owner:1')).toBeUndefined();
  await hb.stop();
  expect((await me.take('x', 'owner:1'))?.callId).toBe('x');
  expect((await me.find('x'))?.owner).toBe('me:1');
  me.remove('x');
  await eventually(async () => (await me.find('x')) === undefined, 'the entry to be removed');

  const results = await Promise.all([me.markAdopting('y'), registry('other:1').markAdopting('y')]);
  expect(results.filter(Boolean)).toHaveLength(1);
});

it('a node whose start failed leaves the node set with its last beat, but not while it holds calls (the sweepers must find them)', async () => {
  const hb = new NodeHeartbeat(infra.redis, 'leaver:1', { ttlMs: 10_000 }, silentLogger());
  await hb.start();
  const me = registry('leaver:1');
  await me.join();
  me.put(entry('held'));
  await eventually(async () => (await me.own()).length === 1, 'the entry to be written');
  await hb.stop();
  expect(await me.leave()).toBe(false);
  expect(await me.nodes()).toContain('leaver:1');
  me.remove('held');
  await eventually(async () => (await me.own()).length === 0, 'the entry to be removed');
  expect(await me.leave()).toBe(true);
  expect(await me.nodes()).not.toContain('leaver:1');
  expect(await infra.redis.hexists(LAST_BEAT_KEY, 'leaver:1')).toBe(0);
});
