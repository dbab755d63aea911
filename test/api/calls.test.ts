/**
 * Calls over HTTP and live over socket.io, on a real node with calls placed through the FreeSWITCH peer: who may
 * see which call, paging, bad input, and the live events each kind of key receives.
 */
import type { Socket } from 'socket.io-client';
import type { ExchangeNode } from '../../app/exchange-node';
import type { CallEvent } from '../../app/exchange/call-events';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';
import { startTestNode } from '../support/node';
import { connectLive } from '../support/live-client';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const sockets: Socket[] = [];
const DID_A = '+18885550460';
const DID_B = '+18885550461';
const BUYER = '+15551230061';

beforeAll(async () => {
  infra = await createTestInfra('api_calls');
  await seedAccount(infra.pool, { id: 'seller-a', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'seller-b', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'other-buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'ca', sellerId: 'seller-a', dids: [DID_A], floorCents: 1200 }); // a lone bidder pays the floor
  await seedCampaign(infra.pool, { id: 'cb', sellerId: 'seller-b', dids: [DID_B] });
  await seedTarget(infra.pool, { id: 'ta', buyerId: 'buyer', campaignId: 'ca', bidCents: 1500, destination: BUYER });
  await seedTarget(infra.pool, { id: 'tb', buyerId: 'buyer', campaignId: 'cb', bidCents: 1500, destination: BUYER });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(BUYER, { kind: 'answer', afterMs: 10 });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.sellerA = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-a' })).key;
  keys.buyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer' })).key;
  keys.otherBuyer = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'other-buyer' })).key;
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await harness?.stop();
  await infra?.cleanup();
});

const get = async (path: string, key?: string) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: r.status, json: (await r.json()) as any };
};

/** A live client on this node (closed after the file's tests). */
async function watch(key: string | undefined): Promise<{ events: CallEvent[]; socket: Socket }> {
  const live = await connectLive(node.httpPort, key);
  sockets.push(live.socket);
  return live;
}

const placeAndRecord = async (ani: string, dnis: string) => {
  await harness.placeCall({ ani, dnis, hangupAfterBridgeMs: 30 }).finished;
  return eventually(async () => {
    await node.recorder!.drain();
    return (await infra.pool.query('SELECT id FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani])).rows[0]?.id as string | undefined;
  }, `the call from ${ani} to be recorded`);
};

describe('live calls over socket.io', () => {
  it('refuses a connection without a valid key', async () => {
    await expect(watch(undefined)).rejects.toThrow(/unauthenticated/);
    await expect(watch('cx_not-a-key')).rejects.toThrow(/unknown or revoked/);
  });

  it('an agent sees every call move through the exchange; a seller and a buyer see only their own', async () => {
    const agent = await watch(keys.agent);
    const sellerA = await watch(keys.sellerA);
    const buyer = await watch(keys.buyer);
    const other = await watch(keys.otherBuyer);
    const idA = await placeAndRecord('+18135556001', DID_A);
    const idB = await placeAndRecord('+18135556002', DID_B);
    await eventually(async () => agent.events.filter((e) => e.type === 'call.ended').length === 2, 'the agent to see both calls end');
    const typesOf = (events: CallEvent[], id: string) => events.filter((e) => e.callId === id).map((e) => e.type);
    expect(typesOf(agent.events, idA)).toEqual(['call.started', 'call.decided', 'call.attempt', 'call.bridged', 'call.ended']);
    const bridged = agent.events.find((e) => e.callId === idA && e.type === 'call.bridged') as Extract<CallEvent, { type: 'call.bridged' }>;
    expect(bridged).toMatchObject({ targetId: 'ta', buyerAccountId: 'buyer', priceCents: 1200 });
    await eventually(async () => sellerA.events.some((e) => e.type === 'call.ended'), 'the seller to see its call end');
    expect(typesOf(sellerA.events, idA)).toEqual(['call.decided', 'call.attempt', 'call.bridged', 'call.ended']);
    expect(typesOf(sellerA.events, idB)).toEqual([]);
    expect(new Set(buyer.events.map((e) => e.callId))).toEqual(new Set([idA, idB]));
    expect(other.events).toEqual([]);
  });
});

describe('live calls across nodes', () => {
  it('a client connected to another node sees the calls this node handles (socket.io Redis adapter)', async () => {
    const other = await startTestNode(infra, { RECORDER_ENABLED: 'false', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
    try {
      const { socket, events: seen } = await connectLive(other.httpPort, keys.agent);
      sockets.push(socket);
      const id = await placeAndRecord('+18135556003', DID_A);
      await eventually(async () => seen.some((e) => e.callId === id && e.type === 'call.ended'), 'the other node to relay the call');
      socket.disconnect();
    } finally {
      await other.stop();
    }
  });
});

describe('GET /v1/calls', () => {
  it('lists what each key may see, newest first, page by page', async () => {
    const all = await get('/v1/calls?limit=1', keys.admin);
    expect(all.status).toBe(200);
    expect(all.json.items).toHaveLength(1);
    const second = await get(`/v1/calls?limit=1&cursor=${all.json.nextCursor}`, keys.admin);
    expect(second.json.items).toHaveLength(1);
    expect(second.json.items[0].id).not.toBe(all.json.items[0].id);
    expect(new Date(second.json.items[0].startedAt).getTime()).toBeLessThanOrEqual(new Date(all.json.items[0].startedAt).getTime());
    expect((await get('/v1/calls', keys.sellerA)).json.items.map((c: { campaignId: string }) => c.campaignId)).toEqual(['ca', 'ca']);
    expect((await get('/v1/calls', keys.buyer)).json.items).toHaveLength(3);
    expect((await get('/v1/calls', keys.otherBuyer)).json.items).toEqual([]);
    expect((await get('/v1/calls?campaignId=cb', keys.agent)).json.items.map((c: { ani: string }) => c.ani)).toEqual(['+18135556002']);
    expect((await get('/v1/calls?ani=+18135556001'.replace('+', '%2B'), keys.agent)).json.items).toHaveLength(1);
  });

  it("pages an operator's calls one by one to the same calls, in the same order, as one page of all, and ends with no cursor", async () => {
    const whole = await get('/v1/calls?limit=500', keys.admin);
    expect(whole.json.nextCursor).toBeNull();
    expect(whole.json.items.length).toBeGreaterThanOrEqual(3);
    const starts = whole.json.items.map((c: { startedAt: string }) => new Date(c.startedAt).getTime());
    expect(starts).toEqual([...starts].sort((a, b) => b - a)); // newest first
    const paged: unknown[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: { json: { items: unknown[]; nextCursor: string | null } } = await get(`/v1/calls?limit=1${cursor ? `&cursor=${cursor}` : ''}`, keys.admin);
      paged.push(...page.json.items);
      cursor = page.json.nextCursor;
      if (!cursor) break;
    }
    // A full last page still has a cursor (as for every role); the page after it is empty and has none.
    expect(paged).toEqual(whole.json.items);
    expect(cursor).toBeNull();
    const exact = await get(`/v1/calls?limit=${whole.json.items.length}`, keys.agent);
    expect(exact.json.items).toEqual(whole.json.items);
    expect(exact.json.nextCursor).toEqual(expect.any(String));
    expect((await get(`/v1/calls?limit=10&cursor=${exact.json.nextCursor}`, keys.agent)).json).toEqual({ items: [], nextCursor: null });
    expect((await get('/v1/calls?campaignId=nothing-here', keys.admin)).json).toEqual({ items: [], nextCursor: null });
  });

  it('searches by number (caller or number called, exact or prefix), campaign, buyer, seller, outcome, reason and period', async () => {
    type Row = { id: string; ani: string; dnis: string; campaignId: string; sellerAccountId: string; winnerBuyerId: string | null; outcome: string; rejectReason: string | null; endReason: string | null; startedAt: string };
    const all = (await get('/v1/calls?limit=500', keys.admin)).json.items as Row[];
    expect(all.length).toBeGreaterThanOrEqual(3);
    const search = async (query: string, key = keys.admin) => ((await get(`/v1/calls?limit=500&${query}`, key)).json.items as Row[]).map((c) => c.id);
    const expectSearch = async (query: string, keep: (c: Row) => boolean) => {
      const want = all.filter(keep).map((c) => c.id);
      expect(want.length).toBeGreaterThan(0); // each search below finds something...
      expect(want.length).toBeLessThan(all.length); // ...and leaves something out
      expect([query, await search(query)]).toEqual([query, want]);
    };
    const enc = encodeURIComponent;
    await expectSearch(`number=${enc('+18135556002')}`, (c) => c.ani === '+18135556002' || c.dnis === '+18135556002');
    await expectSearch(`number=${enc(DID_B)}`, (c) => c.dnis === DID_B);
    await expectSearch(`number=${enc('+18885550461*')}`, (c) => c.dnis.startsWith('+18885550461'));
    await expectSearch(`number=${enc('+181355560*')}&campaignId=ca`, (c) => c.ani.startsWith('+181355560') && c.campaignId === 'ca');
    await expectSearch('sellerId=seller-b', (c) => c.sellerAccountId === 'seller-b');
    await expectSearch('buyerId=buyer&campaignId=cb', (c) => c.winnerBuyerId === 'buyer' && c.campaignId === 'cb');
    const ended = all.find((c) => c.endReason)!;
    expect([`reason=${ended.endReason}`, await search(`reason=${ended.endReason}`)]).toEqual([`reason=${ended.endReason}`, all.filter((c) => c.endReason === ended.endReason || c.rejectReason === ended.endReason).map((c) => c.id)]);
    expect(await search(`outcome=bridged&number=${enc('+18135556001')}`)).toEqual(all.filter((c) => c.outcome === 'bridged' && c.ani === '+18135556001').map((c) => c.id));
    const newest = all[0]!.startedAt;
    expect(await search(`from=${enc(newest)}`)).toEqual([all[0]!.id]);
    expect(await search(`to=${enc(newest)}`)).toEqual(all.slice(1).map((c) => c.id));
    // Searching by buyer tells who won: a buyer may search for itself only, a seller only with buyer details.
    expect((await get('/v1/calls?buyerId=buyer', keys.buyer)).status).toBe(200);
    expect((await get('/v1/calls?buyerId=buyer', keys.otherBuyer)).json.error).toMatchObject({ code: 'forbidden_field', field: 'buyerId' });
    expect((await get('/v1/calls?buyerId=buyer', keys.sellerA)).json.error).toMatchObject({ code: 'forbidden_field', field: 'buyerId' });
    expect((await get('/v1/calls?number=%2B1', keys.admin)).json.error).toMatchObject({ field: 'number' });
  });

  it('names the field at fault and refuses a missing key', async () => {
    expect((await get('/v1/calls?limit=9999', keys.admin)).json.error).toMatchObject({ code: 'validation_failed', field: 'limit' });
    expect((await get('/v1/calls?ani=12345', keys.admin)).json.error).toMatchObject({ field: 'ani' });
    expect((await get('/v1/calls?outcome=great', keys.admin)).json.error).toMatchObject({ field: 'outcome' });
    expect((await get('/v1/calls?cursor=bm9wZQ', keys.admin)).json.error).toMatchObject({ field: 'cursor' });
    expect((await get('/v1/calls')).status).toBe(401);
  });
});

describe('GET /v1/calls/:id', () => {
  it('an operator gets the whole story: trace, attempts, fraud scores, billing and postings', async () => {
    const { json: list } = await get('/v1/calls?campaignId=ca', keys.admin);
    const id = list.items[0].id as string;
    await eventually(async () => (await infra.pool.query('SELECT 1 FROM call_billing WHERE call_id = $1', [id])).rowCount === 1, 'the call to be billed');
    const r = await get(`/v1/calls/${id}`, keys.agent);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id, outcome: 'bridged', winnerTargetId: 'ta', attempts: [{ attemptNo: 1, targetId: 'ta', status: 'bridged' }] });
    expect(r.json.trace.winnerTargetId).toBe('ta');
    expect(r.json.billing).toMatchObject({ reason: expect.any(String) });
    expect(Array.isArray(r.json.fraud)).toBe(true);
    // The call's own fields as the list shows them, then its parts, in this order.
    const item = list.items[0] as Record<string, unknown>;
    expect(Object.keys(r.json)).toEqual([...Object.keys(item), 'attempts', 'billing', 'postings', 'trace', 'fraud']);
    for (const [k, v] of Object.entries(item)) expect([k, r.json[k]]).toEqual([k, v]);
    expect(Array.isArray(r.json.postings)).toBe(true);
  });

  it('a seller or buyer sees its own calls without the other buyers\' bids; anyone else gets 404', async () => {
    const { json: list } = await get('/v1/calls?campaignId=ca', keys.admin);
    const id = list.items[0].id as string;
    const seller = await get(`/v1/calls/${id}`, keys.sellerA);
    expect(seller.status).toBe(200);
    expect(seller.json.trace).toBeUndefined();
    expect((await get(`/v1/calls/${id}`, keys.buyer)).status).toBe(200);
    expect((await get(`/v1/calls/${id}`, keys.otherBuyer)).status).toBe(404);
    expect((await get('/v1/calls/no-such-call', keys.admin)).status).toBe(404);
    expect((await get(`/v1/calls/${id}`)).status).toBe(401);
  });
});
