/**
 * Each party sees only its own, over every route that returns call-derived data and every live event type. A real
 * call through the FreeSWITCH peer: the losing buyer is rung first and is busy, the winner answers, the call is
 * billed. Then everything is read back as the loser, the winner, the seller (with and without the platform's
 * permission to see buyer details) and an agent, over REST and on /live (sockets on the call's node and on a
 * second node, which gets the events through Redis).
 */
import type { Socket } from 'socket.io-client';
import type { ExchangeNode } from '../../app/exchange-node';
import { apiRouteDocs } from '../../app/exchange-node';
import type { CallEvent } from '../../app/exchange/call-events';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { connectLive } from '../support/live-client';
import { startTestNode } from '../support/node';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
let other: ExchangeNode;
const DID = '+18885550470';
const ANI = '+18135554700';
const LOSER_DEST = '+15551230471';
const WINNER_DEST = '+15551230472';
const LOSER_BID = 3100;
const WINNER_BID = 2345;
const PAYOUT = 1200;
const DAY = new Date().toISOString().slice(0, 10);
const RANGE = `from=${DAY}T00:00:00Z&to=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`;

type Party = 'agent' | 'loser' | 'winner' | 'seller' | 'sellerWithDetails';
const key = {} as Record<Party | 'admin', string>;
const account: Record<Party, string | undefined> = { agent: undefined, loser: 'buyer-loser', winner: 'buyer-winner', seller: 'seller-v', sellerWithDetails: 'seller-v' };
const live = {} as Record<Party, { socket: Socket; events: CallEvent[] }>;
/** The same parties watching from the other node. */
const liveOther = {} as Record<Party, { socket: Socket; events: CallEvent[] }>;
let callId = '';

beforeAll(async () => {
  infra = await createTestInfra('e2e_visibility');
  await seedAccount(infra.pool, { id: 'seller-v', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer-loser', kind: 'buyer' });
  await seedAccount(infra.pool, { id: 'buyer-winner', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'camp-v', sellerId: 'seller-v', dids: [DID], routing: 'first_price', payoutCents: PAYOUT });
  await seedTarget(infra.pool, { id: 'target-loser', buyerId: 'buyer-loser', campaignId: 'camp-v', bidCents: LOSER_BID, destination: LOSER_DEST, convertOnSeconds: 0 });
  await seedTarget(infra.pool, { id: 'target-winner', buyerId: 'buyer-winner', campaignId: 'camp-v', bidCents: WINNER_BID, destination: WINNER_DEST, convertOnSeconds: 0 });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  other = await startTestNode(infra, { RECORDER_ENABLED: 'false', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  harness.setBuyer(LOSER_DEST, { kind: 'busy', afterMs: 10 });
  harness.setBuyer(WINNER_DEST, { kind: 'answer', afterMs: 10 });
  key.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  key.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  key.loser = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-loser' })).key;
  key.winner = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-winner' })).key;
  key.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-v' })).key;
  key.sellerWithDetails = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-v' })).key;

  // The permission is read when a socket connects: one of the seller's sockets connects while it holds.
  const parties = Object.keys(account) as Party[];
  expect((await api('PATCH', '/v1/accounts/seller-v', key.admin, { seesBuyerDetails: true })).status).toBe(200);
  live.sellerWithDetails = await connectLive(node.httpPort, key.sellerWithDetails);
  liveOther.sellerWithDetails = await connectLive(other.httpPort, key.sellerWithDetails);
  expect((await api('PATCH', '/v1/accounts/seller-v', key.admin, { seesBuyerDetails: false })).status).toBe(200);
  for (const p of parties.filter((x) => x !== 'sellerWithDetails')) {
    live[p] = await connectLive(node.httpPort, key[p]);
    liveOther[p] = await connectLive(other.httpPort, key[p]);
  }

  const r = await harness.placeCall({ ani: ANI, dnis: DID, hangupAfterBridgeMs: 300 }).finished;
  expect(r.bridgeTargets).toEqual([expect.stringContaining(LOSER_DEST), expect.stringContaining(WINNER_DEST)]);
  expect(r.bridgedTo).toContain(WINNER_DEST);
  callId = await eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query("SELECT c.id FROM calls c JOIN call_billing b ON b.call_id = c.id WHERE c.ani = $1 AND b.reason = 'converted'", [ANI]);
    return rows[0]?.id as string | undefined;
  }, 'the call to be recorded and billed', 15_000);
  await eventually(async () => (await infra.pool.query('SELECT 1 FROM ledger_transactions WHERE call_id = $1', [callId])).rowCount === 1, 'the call to be posted');
  for (const p of parties) {
    for (const [where, l] of [['this node', live[p]], ['the other node', liveOther[p]]] as const) {
      await eventually(async () => l.events.some((e) => e.type === 'call.ended' && e.callId === callId), `${p} on ${where} to get the call's end`);
    }
  }
}, 60_000);

afterAll(async () => {
  for (const l of [...Object.values(live), ...Object.values(liveOther)]) l?.socket.disconnect();
  await other?.stop();
  await harness?.stop();
  await infra?.cleanup();
});

async function api(method: string, path: string, k: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${k}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** What must never reach a party: other parties' ids, destinations and money. */
const FORBIDDEN: Record<Exclude<Party, 'agent'>, { strings: string[]; amounts: number[] }> = {
  loser: { strings: ['buyer-winner', 'target-winner', WINNER_DEST], amounts: [WINNER_BID, PAYOUT] },
  winner: { strings: ['buyer-loser', 'target-loser', LOSER_DEST], amounts: [LOSER_BID, PAYOUT] },
  seller: { strings: ['buyer-loser', 'target-loser', LOSER_DEST, 'buyer-winner', 'target-winner', WINNER_DEST], amounts: [LOSER_BID, WINNER_BID] },
  sellerWithDetails: { strings: [], amounts: [] },
};

/** Every string and number in a JSON value (object keys included), so a leak under any name is found. */
function leaves(v: unknown, out: Array<string | number> = []): Array<string | number> {
  if (typeof v === 'string' || typeof v === 'number') out.push(v);
  else if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(k), leaves(x, out);
  return out;
}

/** A CSV answer's cells, numbers as numbers, so leaksIn finds amounts in it as in JSON. */
const csvCells = (text: string): Array<string | number> =>
  text.split(/[,\r\n]+/).filter(Boolean).map((c) => (/^-?\d+$/.test(c) ? Number(c) : c));

function leaksIn(party: Exclude<Party, 'agent'>, value: unknown): string[] {
  const { strings, amounts } = FORBIDDEN[party];
  return leaves(value)
    .filter((x) => (typeof x === 'string' ? strings.some((s) => x.includes(s)) : amounts.includes(x)))
    .map(String);
}

/** The routes that return call-derived data to a seller or buyer, with the request each party makes. */
const callDerived = (p: Party): Record<string, string> => ({
  'get /v1/calls': '/v1/calls',
  'get /v1/calls/:id': `/v1/calls/${callId}`,
  'get /v1/calls/export.csv': '/v1/calls/export.csv',
  'get /v1/reports/calls': `/v1/reports/calls?groupBy=campaign&bucket=day&${RANGE}`,
  'get /v1/accounts/:id/ledger': `/v1/accounts/${account[p] ?? 'buyer-winner'}/ledger`,
  'get /v1/accounts/:id/invoice': `/v1/accounts/${account[p] ?? 'buyer-winner'}/invoice?${RANGE}`,
  'get /v1/accounts/:id/balance': `/v1/accounts/${account[p] ?? 'buyer-winner'}/balance`,
  'get /v1/balances': '/v1/balances',
  'get /v1/settlements': '/v1/settlements',
});
/** GET routes a seller or buyer may call that hold no call data: their own configuration and compliance lists. */
const NOT_CALL_DERIVED = new Set([
  'get /v1/accounts/:id', 'get /v1/campaigns', 'get /v1/campaigns/:id', 'get /v1/targets', 'get /v1/targets/:id',
  'get /v1/consents', 'get /v1/dnc/imports/:id', 'get /v1/dnc/:list/:number',
  'get /v1/accounts', 'get /v1/numbers', 'get /v1/dnc',
  // Webhook configuration, and deliveries: an account's own only, whose payloads are the webhook projection of the
  // call for that account (projectWebhookCall; test/e2e/webhooks.test.ts checks the buyer's and the seller's views).
  'get /v1/webhooks/endpoints', 'get /v1/webhooks/endpoints/:id', 'get /v1/accounts/:id/webhook-secret',
  'get /v1/webhooks/deliveries', 'get /v1/webhooks/deliveries/:id',
  // A buyer's own RTB endpoints' counts and response times (test/exchange/rtb.test.ts checks a buyer sees only its own).
  'get /v1/targets/:id/rtb-stats', 'get /v1/rtb-stats',
  // a seller's own ping counts and limits: numbers of pings and bids, nothing about buyers, prices or calls' parties
  'get /v1/rtb/pings/stats',
]);

it('names every route a seller or buyer may read: call-derived ones are checked below', () => {
  const readable = apiRouteDocs.filter((d) => d.method === 'get' && d.roles.some((r) => r === 'seller' || r === 'buyer')).map((d) => `${d.method} ${d.path}`);
  const unclassified = readable.filter((r) => !(r in callDerived('agent')) && !NOT_CALL_DERIVED.has(r));
  expect(unclassified).toEqual([]);
});

describe.each(['loser', 'winner', 'seller', 'sellerWithDetails'] as const)('as %s', (party) => {
  it('no route returns another party\'s ids, destinations or money', async () => {
    for (const [route, path] of Object.entries(callDerived(party))) {
      const r = await api('GET', path, key[party]);
      // Buyers read no reports by campaign of others; every route answers this party.
      expect({ route, status: r.status }).toEqual({ route, status: 200 });
      expect({ route, leaks: leaksIn(party, r.json ?? csvCells(r.text)) }).toEqual({ route, leaks: [] });
    }
    if (party === 'seller') expect((await api('GET', `/v1/reports/calls?groupBy=buyer&bucket=day&${RANGE}`, key.seller)).status).toBe(403);
  });

  it('no live event, on either node, carries another party\'s ids or money', () => {
    for (const l of [live[party], liveOther[party]]) {
      const mine = l.events.filter((e) => e.callId === callId);
      expect(mine.length).toBeGreaterThan(0);
      expect(leaksIn(party, mine)).toEqual([]);
    }
  });
});

it('the call, as each party reads it', async () => {
  const read = async (p: Party) => (await api('GET', `/v1/calls/${callId}`, key[p])).json;
  const agent = await read('agent');
  expect(agent).toMatchObject({ winnerBuyerId: 'buyer-winner', winnerTargetId: 'target-winner', priceCents: WINNER_BID, billing: { buyerChargeCents: WINNER_BID, sellerPayoutCents: PAYOUT } });
  expect(agent.attempts.map((a: { buyerId: string; status: string }) => [a.buyerId, a.status])).toEqual([['buyer-loser', 'busy'], ['buyer-winner', 'bridged']]);
  expect(agent.trace).toBeTruthy();

  const winner = await read('winner');
  expect(winner).toMatchObject({ winnerBuyerId: 'buyer-winner', priceCents: WINNER_BID, billing: { buyerChargeCents: WINNER_BID } });
  expect(winner.billing.sellerPayoutCents).toBeUndefined();
  expect(winner.attempts.map((a: { buyerId: string }) => a.buyerId)).toEqual(['buyer-winner']);
  expect(winner.trace).toBeUndefined();

  const loser = await read('loser');
  expect(loser).toMatchObject({ id: callId, outcome: 'bridged', winnerBuyerId: null, winnerTargetId: null, priceCents: null, billing: null, postings: [] });
  expect(loser.attempts).toEqual([expect.objectContaining({ buyerId: 'buyer-loser', targetId: 'target-loser', status: 'busy' })]);
  const listed = (await api('GET', '/v1/calls', key.loser)).json.items;
  expect(listed).toEqual([expect.objectContaining({ id: callId, winnerBuyerId: null, priceCents: null })]);

  const seller = await read('seller');
  expect(seller).toMatchObject({ winnerBuyerId: null, priceCents: null, billing: { sellerPayoutCents: PAYOUT } });
  expect(seller.billing.buyerChargeCents).toBeUndefined();
  expect(seller.attempts.map((a: { status: string }) => a.status)).toEqual(['busy', 'bridged']);
  expect(seller.postings.map((x: { accountId: string; amountCents: number }) => [x.accountId, x.amountCents])).toEqual([['seller-v', PAYOUT]]);

  // The platform lets the seller see buyer details: the same key now reads the buyer side.
  await api('PATCH', '/v1/accounts/seller-v', key.admin, { seesBuyerDetails: true });
  try {
    const detailed = await read('seller');
    expect(detailed).toMatchObject({ winnerBuyerId: 'buyer-winner', priceCents: WINNER_BID, billing: { sellerPayoutCents: PAYOUT, buyerChargeCents: WINNER_BID } });
    expect(detailed.attempts.map((a: { buyerId: string }) => a.buyerId)).toEqual(['buyer-loser', 'buyer-winner']);
    expect(detailed.trace).toBeUndefined();
  } finally {
    await api('PATCH', '/v1/accounts/seller-v', key.admin, { seesBuyerDetails: false });
  }
});

it('every live event type, as each party receives it, on the call\'s node and on another', () => {
  const ALL_TYPES: Array<CallEvent['type']> = ['call.started', 'call.decided', 'call.attempt', 'call.bridged', 'call.ended'];
  // what each party gets of the call: event type and the buyer it names, if any
  const expected: Record<Party, string[]> = {
    agent: ['call.started', 'call.decided buyer-loser', 'call.attempt buyer-loser', 'call.bridged buyer-winner', 'call.attempt buyer-winner', 'call.ended buyer-winner'],
    // rung first (ranked first at the decision: its own price), then told only that the call ended
    loser: ['call.decided buyer-loser', 'call.attempt buyer-loser', 'call.ended'],
    winner: ['call.bridged buyer-winner', 'call.attempt buyer-winner', 'call.ended buyer-winner'],
    seller: ['call.decided', 'call.attempt', 'call.bridged', 'call.attempt', 'call.ended'],
    sellerWithDetails: ['call.decided buyer-loser', 'call.attempt buyer-loser', 'call.bridged buyer-winner', 'call.attempt buyer-winner', 'call.ended buyer-winner'],
  };
  const named = (e: Record<string, unknown>) => [e.type, e.buyerAccountId ?? e.winnerBuyerId].filter(Boolean).join(' ');
  for (const p of Object.keys(expected) as Party[]) {
    for (const l of [live[p], liveOther[p]]) {
      const got = l.events.filter((e) => e.callId === callId) as unknown as Array<Record<string, unknown>>;
      expect({ p, got: got.map(named).sort() }).toEqual({ p, got: [...expected[p]].sort() });
      if (p !== 'agent') for (const e of got) expect(e.decisionUs).toBeUndefined();
    }
  }
  const agentTypes = new Set(live.agent.events.filter((e) => e.callId === callId).map((e) => e.type));
  expect([...agentTypes].sort()).toEqual([...ALL_TYPES].sort());
  const bridged = live.winner.events.find((e) => e.callId === callId && e.type === 'call.bridged');
  expect(bridged).toMatchObject({ priceCents: WINNER_BID, targetId: 'target-winner' });
  const sellerEnded = live.seller.events.find((e) => e.callId === callId && e.type === 'call.ended') as Record<string, unknown>;
  expect(sellerEnded.priceCents).toBeUndefined();
  expect(sellerEnded.billableSec).toEqual(expect.any(Number));
});
