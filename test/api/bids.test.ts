/**
 * Standing bids changed over socket.io (single and batched, acknowledged per update) and REST; the next call
 * through the FreeSWITCH peer is auctioned on the new bid, on a node that did not reload its config.
 */
import type { Socket } from 'socket.io-client';
import { connectLive } from '../support/live-client';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from '../e2e/freeswitch-harness';
import { BidWriter } from '../../app/store/bid-writer';
import { bidsChannel } from '../../app/exchange/snapshot-source';
import { sleep } from '../../app/util/backoff';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const sockets: Socket[] = [];
const DID = '+18885550470';
const A = '+15551230071';
const B = '+15551230072';

beforeAll(async () => {
  infra = await createTestInfra('api_bids');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer-a', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'buyer-b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: [DID], routing: 'first_price' });
  await seedTarget(infra.pool, { id: 'ta', buyerId: 'buyer-a', campaignId: 'c', bidCents: 1500, destination: A });
  await seedTarget(infra.pool, { id: 'tb', buyerId: 'buyer-b', campaignId: 'c', bidCents: 1000, destination: B });
  await seedTarget(infra.pool, { id: 'tb2', buyerId: 'buyer-b', campaignId: 'c', bidCents: 900, destination: B });
  await seedTarget(infra.pool, { id: 'tb3', buyerId: 'buyer-b', campaignId: 'c', bidCents: 100, destination: B });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(A, { kind: 'answer', afterMs: 10 });
  harness.setBuyer(B, { kind: 'answer', afterMs: 10 });
  keys.buyerB = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-b' })).key;
  keys.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
  keys.buyerA = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-a' })).key;
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await harness?.stop();
  await infra?.cleanup();
});

async function client(key: string): Promise<Socket> {
  const { socket } = await connectLive(node.httpPort, key);
  sockets.push(socket);
  return socket;
}

const send = (socket: Socket, payload: unknown) => socket.timeout(5000).emitWithAck('bids:update', payload) as Promise<any>;
const bidOf = (id: string) => node.snapshots.current().targets.get(id)?.bidCents;

it('a buyer raises its bid over socket.io and wins the next call', async () => {
  const before = await harness.placeCall({ ani: '+18135557001', dnis: DID, hangupAfterBridgeMs: 20 }).finished;
  expect(before.bridgedTo).toContain(A);
  const socket = await client(keys.buyerB);
  expect(await send(socket, { targetId: 'tb', bidCents: 2000 })).toEqual({ results: [{ targetId: 'tb', ok: true, bidCents: 2000 }] });
  // Acknowledged means in effect: this node's snapshot has it already, not a few milliseconds later.
  expect(bidOf('tb')).toBe(2000);
  const after = await harness.placeCall({ ani: '+18135557002', dnis: DID, hangupAfterBridgeMs: 20 }).finished;
  expect(after.bridgedTo).toContain(B);
  expect((await infra.pool.query("SELECT bid_cents::int AS b FROM buyer_targets WHERE id = 'tb'")).rows[0].b).toBe(2000);
});

it('a bid committed while Redis cannot publish it is answered as written and is in effect on this node', async () => {
  const socket = await client(keys.buyerB);
  // Only the bids channel fails (billing publishes funds on the same client meanwhile, under load).
  const channel = bidsChannel(node.config.REDIS_PREFIX);
  const original = node.redis.publish.bind(node.redis) as (ch: string, message: string) => Promise<number>;
  let bidPublishes = 0;
  const publish = jest.spyOn(node.redis, 'publish').mockImplementation(((ch: string, message: string) => {
    if (ch !== channel) return original(ch, message);
    bidPublishes += 1;
    return Promise.reject(new Error('Connection is closed.'));
  }) as never);
  try {
    expect(await send(socket, { targetId: 'tb3', bidCents: 150 })).toEqual({ results: [{ targetId: 'tb3', ok: true, bidCents: 150 }] });
    expect(bidPublishes).toBe(1);
  } finally {
    publish.mockRestore();
  }
  expect((await infra.pool.query("SELECT bid_cents::int AS b FROM buyer_targets WHERE id = 'tb3'")).rows[0].b).toBe(150);
  expect(bidOf('tb3')).toBe(150);
});

it('bid messages heard out of order (two nodes wrote one target, their publishes crossed) leave the later write in effect', async () => {
  // Another node writes tb2 (as its bid writer does: the bid and a new version) and is slow to publish it.
  const other = async (bid: number) =>
    (await infra.pool.query("UPDATE buyer_targets SET bid_cents = $1, bid_version = bid_version + 1 WHERE id = 'tb2' RETURNING bid_version::int AS v", [bid])).rows[0].v as number;
  const publish = (message: unknown) => node.redis.publish(bidsChannel(node.config.REDIS_PREFIX), JSON.stringify(message));
  const late = await other(555);
  const socket = await client(keys.buyerB);
  expect(await send(socket, { targetId: 'tb2', bidCents: 950 })).toEqual({ results: [{ targetId: 'tb2', ok: true, bidCents: 950 }] });
  // The other node's earlier write is heard only now: it must not undo the later one.
  await publish({ tb2: [555, late] });
  await sleep(50);
  expect(bidOf('tb2')).toBe(950);
  // A later write from elsewhere applies.
  await publish({ tb2: [960, await other(960)] });
  await eventually(async () => bidOf('tb2') === 960, 'the newer bid to apply');
  // So does a message without a version (from a node that predates them).
  await infra.pool.query("UPDATE buyer_targets SET bid_cents = 145 WHERE id = 'tb3'");
  await publish({ tb3: 145 });
  await eventually(async () => bidOf('tb3') === 145, 'the unversioned bid to apply');
  await infra.pool.query("UPDATE buyer_targets SET bid_cents = 150 WHERE id = 'tb3'");
  await publish({ tb3: 150 });
  await eventually(async () => bidOf('tb3') === 150, 'tb3 back to its bid');
  expect(await dbBids()).toMatchObject({ tb2: 960, tb3: 150 });
});

it('a batch is acknowledged per update: foreign targets and repeats are refused, the rest applied', async () => {
  const socket = await client(keys.buyerB);
  const reply = await send(socket, { updates: [{ targetId: 'tb', bidCents: 2100 }, { targetId: 'ta', bidCents: 1 }, { targetId: 'tb2', bidCents: 950 }, { targetId: 'tb', bidCents: 5 }] });
  expect(reply.results).toEqual([
    { targetId: 'tb', ok: true, bidCents: 2100 },
    { targetId: 'ta', ok: false, error: 'not_found' },
    { targetId: 'tb2', ok: true, bidCents: 950 },
    { targetId: 'tb', ok: false, error: 'duplicate_in_batch' },
  ]);
  await eventually(async () => bidOf('tb') === 2100 && bidOf('tb2') === 950, 'the node to take the batch');
  expect(bidOf('ta')).toBe(1500);
});

it('bad messages get a clear error naming the field, and sellers may not bid', async () => {
  const socket = await client(keys.buyerB);
  expect((await send(socket, { targetId: 'tb', bidCents: -5 })).error).toMatchObject({ code: 'validation_failed', field: 'bidCents' });
  expect((await send(socket, { updates: [] })).error).toMatchObject({ code: 'validation_failed' });
  expect((await send(socket, 'nonsense')).error).toMatchObject({ code: 'validation_failed' });
  const seller = await client(keys.seller);
  expect((await send(seller, { targetId: 'tb', bidCents: 1 })).error).toMatchObject({ code: 'forbidden' });
  expect(bidOf('tb')).toBe(2100);
});

it('PATCH /v1/targets/:id/bid: own target only, validated, authenticated', async () => {
  const patch = async (id: string, body: unknown, key?: string) => {
    const r = await fetch(`http://127.0.0.1:${node.httpPort}/v1/targets/${id}/bid`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as any };
  };
  expect(await patch('tb', { bidCents: 2200 }, keys.buyerB)).toEqual({ status: 200, json: { targetId: 'tb', bidCents: 2200 } });
  await eventually(async () => bidOf('tb') === 2200, 'the node to take the REST bid');
  expect(await patch('ta', { bidCents: 1 }, keys.buyerB)).toMatchObject({ status: 404 });
  expect((await patch('tb', { bidCents: 'lots' }, keys.buyerB)).json.error).toMatchObject({ code: 'validation_failed', field: 'bidCents' });
  expect((await patch('tb', { bidCents: 1 }, keys.seller)).status).toBe(403);
  expect((await patch('tb', { bidCents: 1 })).status).toBe(401);
});

/**
 * Group commit, made deterministic: the test holds tb3's row lock, so the writer's first statement (a batch on tb3)
 * waits; every batch sent meanwhile queues on the node (seen arriving through a spy on BidWriter.submit, which also
 * records the arrival order), then all of them leave as one statement once the lock is released.
 */
async function whileWriterBlocked<T>(sendRest: () => Promise<T>, batches: number): Promise<{ rest: T; statements: number; arrivals: Array<{ scope: string; updates: Array<{ targetId: string; bidCents: number }> }> }> {
  const submit = jest.spyOn(BidWriter.prototype, 'submit');
  const query = jest.spyOn(node.pool, 'query');
  const lock = await infra.pool.connect();
  try {
    await lock.query('BEGIN');
    await lock.query("SELECT 1 FROM buyer_targets WHERE id = 'tb3' FOR UPDATE");
    const admin = await client(keys.admin);
    const blocker = send(admin, { targetId: 'tb3', bidCents: 150 });
    await eventually(async () => submit.mock.calls.length === 1, 'the blocking batch to reach the writer');
    const rest = sendRest();
    await eventually(async () => submit.mock.calls.length === 1 + batches, 'every batch to queue behind it');
    await lock.query('COMMIT');
    expect(await blocker).toEqual({ results: [{ targetId: 'tb3', ok: true, bidCents: 150 }] });
    // The writer's statements, as text or as a (named) query config.
    const textOf = (q: unknown): string => (typeof q === 'string' ? q : String((q as { text?: unknown } | undefined)?.text ?? ''));
    const merged = query.mock.calls.filter((c) => textOf(c[0]).includes('DISTINCT ON (id)')).length;
    const arrivals = submit.mock.calls.slice(1).map(([p, updates]) => ({ scope: p.role === 'admin' ? 'admin' : p.accountId!, updates: [...updates] }));
    return { rest: await rest, statements: merged, arrivals };
  } finally {
    lock.release();
    submit.mockRestore();
    query.mockRestore();
  }
}

const dbBids = async () =>
  Object.fromEntries((await infra.pool.query<{ id: string; b: number }>('SELECT id, bid_cents::int AS b FROM buyer_targets ORDER BY id')).rows.map((r) => [r.id, r.b]));

it('concurrent batches from two clients are merged into one statement: all committed, last write per target wins, the snapshot matches the DB', async () => {
  const buyer = await client(keys.buyerB);
  const admin = await client(keys.admin);
  const N = 8;
  const { rest, statements, arrivals } = await whileWriterBlocked(
    () =>
      Promise.all(
        Array.from({ length: N }, (_, k) => [
          send(buyer, { updates: [{ targetId: 'tb', bidCents: 3000 + k }, { targetId: 'tb2', bidCents: 4000 + k }] }),
          send(admin, { updates: [{ targetId: 'tb', bidCents: 5000 + k }, { targetId: 'ta', bidCents: 6000 + k }] }),
        ]).flat(),
      ),
    2 * N,
  );
  // The blocker, then one statement for all 16 batches.
  expect(statements).toBe(2);
  for (const reply of rest) expect(reply.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
  const expected: Record<string, number> = {};
  for (const a of arrivals) for (const u of a.updates) expected[u.targetId] = u.bidCents;
  expect(expected.tb2).toBe(4000 + N - 1);
  expect(expected.ta).toBe(6000 + N - 1);
  const db = await dbBids();
  expect(db).toMatchObject({ ...expected, tb3: 150 });
  await eventually(async () => ['ta', 'tb', 'tb2', 'tb3'].every((id) => bidOf(id) === db[id]), 'the snapshot to match the DB');
});

it("a merged write refuses another buyer's target per update and applies the rest", async () => {
  const buyerB = await client(keys.buyerB);
  const buyerA = await client(keys.buyerA);
  const { rest, statements } = await whileWriterBlocked(
    () =>
      Promise.all([
        send(buyerA, { updates: [{ targetId: 'ta', bidCents: 1600 }] }),
        send(buyerB, { updates: [{ targetId: 'tb', bidCents: 2300 }, { targetId: 'ta', bidCents: 1 }, { targetId: 'tb2', bidCents: 960 }, { targetId: 'tb', bidCents: 7 }] }),
        send(buyerA, { updates: [{ targetId: 'tb2', bidCents: 2 }] }),
      ]),
    3,
  );
  expect(statements).toBe(2);
  expect(rest).toEqual([
    { results: [{ targetId: 'ta', ok: true, bidCents: 1600 }] },
    {
      results: [
        { targetId: 'tb', ok: true, bidCents: 2300 },
        { targetId: 'ta', ok: false, error: 'not_found' },
        { targetId: 'tb2', ok: true, bidCents: 960 },
        { targetId: 'tb', ok: false, error: 'duplicate_in_batch' },
      ],
    },
    { results: [{ targetId: 'tb2', ok: false, error: 'not_found' }] },
  ]);
  expect(await dbBids()).toMatchObject({ ta: 1600, tb: 2300, tb2: 960 });
  await eventually(async () => bidOf('ta') === 1600 && bidOf('tb') === 2300 && bidOf('tb2') === 960, 'the snapshot to take the merged write');
});

it('a merged write that fails answers an error to every batch it carried and changes nothing', async () => {
  const buyer = await client(keys.buyerB);
  const admin = await client(keys.admin);
  const submit = jest.spyOn(BidWriter.prototype, 'submit');
  const lockTb3 = await infra.pool.connect();
  const lockTb = await infra.pool.connect();
  try {
    const before = await dbBids();
    await lockTb3.query('BEGIN');
    await lockTb3.query("SELECT 1 FROM buyer_targets WHERE id = 'tb3' FOR UPDATE");
    await lockTb.query('BEGIN');
    await lockTb.query("SELECT 1 FROM buyer_targets WHERE id = 'tb' FOR UPDATE");
    const blocker = send(admin, { targetId: 'tb3', bidCents: 160 });
    await eventually(async () => submit.mock.calls.length === 1, 'the blocking batch to reach the writer');
    const carried = [send(buyer, { updates: [{ targetId: 'tb2', bidCents: 9002 }, { targetId: 'tb', bidCents: 9001 }] }), send(admin, { updates: [{ targetId: 'ta', bidCents: 9003 }] })];
    await eventually(async () => submit.mock.calls.length === 3, 'both batches to queue behind it');
    await lockTb3.query('COMMIT');
    expect(await blocker).toEqual({ results: [{ targetId: 'tb3', ok: true, bidCents: 160 }] });
    // The merged statement now waits for tb's lock (ta and tb2 already locked, in id order): cancel it. (Found by its
    // opening: pg_stat_activity keeps only the first 1 kB of a query's text.)
    const waiting = await eventually(async () => {
      const { rows } = await infra.pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%AS u(id, bid, scope, seq%' AND pid <> pg_backend_pid()");
      return rows[0];
    }, 'the merged statement to wait on the lock');
    await infra.pool.query('SELECT pg_cancel_backend($1)', [waiting.pid]);
    for (const reply of await Promise.all(carried)) expect(reply.error).toMatchObject({ code: 'internal_error' });
    await lockTb.query('ROLLBACK');
    expect(await dbBids()).toEqual({ ...before, tb3: 160 });
    await eventually(async () => bidOf('tb3') === 160, 'the snapshot to take the blocker');
    expect([bidOf('ta'), bidOf('tb'), bidOf('tb2')]).toEqual([before.ta, before.tb, before.tb2]);
  } finally {
    await lockTb3.query('ROLLBACK').catch(() => undefined);
    await lockTb.query('ROLLBACK').catch(() => undefined);
    lockTb3.release();
    lockTb.release();
    submit.mockRestore();
  }
});
