/**
 * The routing config over HTTP on a real node: accounts, keys, a campaign with a tracking number and a buyer
 * target created through the API route the next call; changes apply on the next call; every route checks role,
 * account and input.
 */
import { randomUUID } from 'node:crypto';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';

let infra: TestInfra;
let node: ExchangeNode;
let admin: string;
let agent: string;
const keys: Record<string, string> = {};

beforeAll(async () => {
  infra = await createTestInfra('api_config');
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

const api = async (method: string, path: string, key: string | undefined, body?: unknown) => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as any };
};
const decide = (dnis: string, ani = '+13035550100') =>
  node.router.decide(randomUUID(), { ani, dnis, direction: 'inbound', switchName: 'test', switchCallId: randomUUID() }, new Date());

it('an admin sets up accounts and keys; the seller and buyer build a route the next call takes', async () => {
  for (const a of [{ id: 'acme', kind: 'seller', name: 'Acme Leads' }, { id: 'rival', kind: 'seller', name: 'Rival' }, { id: 'bigbuyer', kind: 'buyer', name: 'Big Buyer', creditLimitCents: 500_000 }, { id: 'other', kind: 'buyer', name: 'Other' }]) {
    expect((await api('POST', '/v1/accounts', admin, a)).status).toBe(201);
  }
  for (const [name, role, accountId] of [['seller', 'seller', 'acme'], ['rival', 'seller', 'rival'], ['buyer', 'buyer', 'bigbuyer'], ['other', 'buyer', 'other']] as const) {
    const r = await api('POST', '/v1/api-keys', admin, { role, accountId, label: name });
    expect(r.status).toBe(201);
    expect(r.json.key).toMatch(/^cx_/);
    keys[name] = r.json.key;
  }
  const listed = await api('GET', '/v1/accounts/acme/api-keys', admin);
  expect(JSON.stringify(listed.json)).not.toContain(keys.seller);

  // The seller creates its campaign; its price (floor and payout) is the platform's to set.
  expect((await api('POST', '/v1/campaigns', keys.seller, { id: 'solar', sellerAccountId: 'acme', name: 'Solar' })).status).toBe(201);
  expect((await api('PATCH', '/v1/campaigns/solar', admin, { floorCents: 500, payoutCents: 900 })).status).toBe(200);
  expect((await api('POST', '/v1/campaigns/solar/numbers', keys.seller, { did: '(888) 555-0110' })).json).toMatchObject({ did: '+18885550110', campaignId: 'solar' });
  const target = await api('POST', '/v1/targets', keys.buyer, {
    id: 'bb-solar', buyerAccountId: 'bigbuyer', campaignId: 'solar', name: 'Solar CO', bidCents: 2500, destination: 'sip:solar@buyer.example',
    targeting: { states: ['CO'] }, schedule: { timeZone: 'America/Denver', hours: { 0: [[0, 1440]], 1: [[0, 1440]], 2: [[0, 1440]], 3: [[0, 1440]], 4: [[0, 1440]], 5: [[0, 1440]], 6: [[0, 1440]] } }, capConcurrency: 5,
  });
  expect(target.status).toBe(201);
  const routed = await eventually(async () => {
    const d = await decide('+18885550110');
    return d.outcome === 'route' ? d : undefined;
  }, 'the new route to take the call');
  expect(routed.trace.winnerTargetId).toBe('bb-solar');

  // A change applies on the next call: the buyer narrows its targeting to Texas.
  expect((await api('PATCH', '/v1/targets/bb-solar', keys.buyer, { targeting: { states: ['TX'] } })).status).toBe(200);
  const excluded = await eventually(async () => {
    const d = await decide('+18885550110');
    return d.outcome === 'reject' ? d : undefined;
  }, 'the targeting change to apply');
  expect(excluded.trace.excluded.reason[excluded.trace.excluded.targetId.indexOf('bb-solar')]).toBe('geo_state');

  // A bid changed here bumps the target's bid version, as a bid update does (nodes order bid messages by it); other
  // changes leave it.
  const version = async () => Number((await api('GET', '/v1/targets/bb-solar', keys.buyer)).json.bidVersion);
  const v0 = await version();
  expect((await api('PATCH', '/v1/targets/bb-solar', keys.buyer, { bidCents: 2600 })).status).toBe(200);
  expect(await version()).toBe(v0 + 1);
  expect((await api('PATCH', '/v1/targets/bb-solar', keys.buyer, { name: 'Solar CO 2' })).status).toBe(200);
  expect(await version()).toBe(v0 + 1);
});

it('no account reads or changes another\'s config', async () => {
  expect((await api('GET', '/v1/campaigns/solar', keys.rival)).status).toBe(404);
  expect((await api('PATCH', '/v1/campaigns/solar', keys.rival, { floorCents: 1 })).status).toBe(404);
  expect((await api('POST', '/v1/campaigns/solar/numbers', keys.rival, { did: '+18885550111' })).status).toBe(404);
  expect((await api('POST', '/v1/campaigns', keys.rival, { id: 'steal', sellerAccountId: 'acme', name: 'x' })).status).toBe(404);
  expect((await api('GET', '/v1/targets/bb-solar', keys.other)).status).toBe(404);
  expect((await api('PATCH', '/v1/targets/bb-solar', keys.other, { bidCents: 1 })).status).toBe(404);
  expect((await api('POST', '/v1/targets', keys.other, { id: 'x', buyerAccountId: 'bigbuyer', campaignId: 'solar', name: 'x', bidCents: 1, destination: '+13035551234' })).status).toBe(404);
  expect((await api('GET', '/v1/accounts/bigbuyer', keys.other)).status).toBe(404);
  expect((await api('GET', '/v1/campaigns', keys.rival)).json.items).toEqual([]);
  expect((await api('GET', '/v1/targets', keys.other)).json.items).toEqual([]);
  expect((await api('GET', '/v1/campaigns/solar', agent)).status).toBe(200);
  expect((await api('PATCH', '/v1/campaigns/solar', agent, { floorCents: 1 })).status).toBe(403);
  expect((await api('POST', '/v1/accounts', keys.seller, { id: 'x', kind: 'buyer', name: 'x' })).status).toBe(403);
  expect((await api('GET', '/v1/campaigns', undefined)).status).toBe(401);
});

it('bad input names the field; conflicts and unknown references are clear', async () => {
  const field = async (method: string, path: string, key: string, body: unknown) => (await api(method, path, key, body)).json.error;
  expect(await field('POST', '/v1/accounts', admin, { id: 'bad id!', kind: 'buyer', name: 'x' })).toMatchObject({ code: 'validation_failed', field: 'id' });
  expect(await field('POST', '/v1/api-keys', admin, { role: 'buyer' })).toMatchObject({ field: 'accountId' });
  // A key's role and its account's kind agree; campaigns belong to sellers, targets to buyers.
  expect(await field('POST', '/v1/api-keys', admin, { role: 'admin', accountId: 'acme' })).toMatchObject({ code: 'validation_failed', field: 'accountId' });
  expect(await field('POST', '/v1/api-keys', admin, { role: 'seller', accountId: 'bigbuyer' })).toMatchObject({ code: 'wrong_account_kind', field: 'accountId' });
  expect(await field('POST', '/v1/api-keys', admin, { role: 'buyer', accountId: 'ghost' })).toMatchObject({ code: 'unknown_reference', field: 'accountId' });
  expect(await field('POST', '/v1/campaigns', admin, { id: 'c3', sellerAccountId: 'bigbuyer', name: 'x' })).toMatchObject({ code: 'wrong_account_kind', field: 'sellerAccountId' });
  expect(await field('POST', '/v1/targets', admin, { id: 't3', buyerAccountId: 'acme', campaignId: 'solar', name: 'x', bidCents: 1, destination: '+13035551234' })).toMatchObject({ code: 'wrong_account_kind', field: 'buyerAccountId' });
  expect(await field('POST', '/v1/campaigns', keys.seller, { id: 'c2', sellerAccountId: 'acme', name: 'x', payoutCents: 1, payoutPercent: 5 })).toMatchObject({ field: 'payoutPercent' });
  expect(await field('POST', '/v1/campaigns/solar/numbers', keys.seller, { did: '555' })).toMatchObject({ field: 'did' });
  expect(await field('PATCH', '/v1/targets/bb-solar', keys.buyer, { schedule: { timeZone: 'Mars/Olympus', hours: {} } })).toMatchObject({ field: 'schedule.timeZone' });
  expect(await field('PATCH', '/v1/targets/bb-solar', keys.buyer, { destination: 'ftp://nope' })).toMatchObject({ field: 'destination' });
  expect(await field('PATCH', '/v1/targets/bb-solar', keys.buyer, { capHourly: 0 })).toMatchObject({ field: 'capHourly' });
  expect(await field('PATCH', '/v1/targets/bb-solar', keys.buyer, {})).toMatchObject({ code: 'validation_failed' });
  expect((await api('POST', '/v1/accounts', admin, { id: 'acme', kind: 'seller', name: 'again' })).json.error).toMatchObject({ code: 'conflict', field: 'id' });
  expect((await api('POST', '/v1/campaigns/solar/numbers', keys.seller, { did: '+18885550110' })).json.error).toMatchObject({ code: 'conflict' });
  expect((await api('POST', '/v1/targets', keys.buyer, { id: 't9', buyerAccountId: 'bigbuyer', campaignId: 'nope', name: 'x', bidCents: 1, destination: '+13035551234' })).json.error).toMatchObject({ code: 'unknown_reference' });
});

it('errors say what is wrong in words a user understands, never the database\'s text', async () => {
  const error = async (method: string, path: string, key: string, body: unknown) => (await api(method, path, key, body)).json.error;
  const taken = await error('POST', '/v1/campaigns/solar/numbers', keys.seller, { did: '+18885550110' });
  expect(taken).toEqual({ code: 'conflict', message: 'tracking number +18885550110 already exists', field: 'did' });
  expect(await error('POST', '/v1/accounts', admin, { id: 'acme', kind: 'seller', name: 'again' })).toEqual({ code: 'conflict', message: 'account acme already exists', field: 'id' });
  const missing = await error('POST', '/v1/targets', keys.buyer, { buyerAccountId: 'bigbuyer', campaignId: 'nope', name: 'x', bidCents: 1, destination: '+13035551234' });
  expect(missing).toEqual({ code: 'unknown_reference', message: 'campaign nope not found', field: 'campaignId' });
  for (const e of [taken, missing]) expect(e.message).not.toMatch(/Key \(|is not present in table|violates|constraint/);
  // A form-encoded body is refused for what it is, not as a shapeless object.
  const form = await fetch(`http://127.0.0.1:${node.httpPort}/v1/accounts`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'kind=buyer&name=x' });
  expect(form.status).toBe(415);
  expect(await form.json()).toEqual({ error: { code: 'unsupported_media_type', message: 'send JSON (Content-Type: application/json)' } });
});

it('the server names what the client does not; a GET echoed back as a PATCH is accepted', async () => {
  const account = await api('POST', '/v1/accounts', admin, { kind: 'seller', name: 'Unnamed Leads' });
  expect(account.status).toBe(201);
  expect(account.json).toMatchObject({ id: expect.stringMatching(/^acct_[0-9a-f]{16}$/), kind: 'seller', name: 'Unnamed Leads', balanceCents: 0, creditLimitCents: 0 });
  const campaign = await api('POST', '/v1/campaigns', admin, { sellerAccountId: account.json.id, name: 'Unnamed campaign', floorCents: 1250 });
  expect(campaign.json).toMatchObject({ id: expect.stringMatching(/^cmp_/), sellerAccountId: account.json.id, floorCents: 1250 });
  const target = await api('POST', '/v1/targets', keys.buyer, { buyerAccountId: 'bigbuyer', campaignId: campaign.json.id, name: 'Unnamed target', bidCents: 1800, destination: '+13035551234' });
  expect(target.json).toMatchObject({ id: expect.stringMatching(/^tgt_/), bidCents: 1800, qualityScore: 1 });
  expect(await node.pool.query('SELECT 1 FROM buyer_targets WHERE id = $1', [target.json.id]).then((r) => r.rowCount)).toBe(1);

  // Each resource read back and sent as it is: accepted, unchanged (a seller and a buyer echo their own too).
  for (const [path, key] of [[`/v1/accounts/${account.json.id}`, admin], [`/v1/campaigns/${campaign.json.id}`, admin], [`/v1/campaigns/solar`, keys.seller], [`/v1/targets/${target.json.id}`, keys.buyer]] as const) {
    const got = await api('GET', path, key);
    const echoed = await api('PATCH', path, key, got.json);
    expect([path, echoed.status]).toEqual([path, 200]);
    const { updatedAt: _a, ...before } = got.json;
    const { updatedAt: _b, ...after } = (await api('GET', path, key)).json;
    expect(after).toEqual(before);
  }
  // ...but an echo that names another resource is refused.
  const got = (await api('GET', `/v1/targets/${target.json.id}`, keys.buyer)).json;
  expect((await api('PATCH', `/v1/targets/${target.json.id}`, keys.buyer, { ...got, buyerAccountId: 'other' })).json.error).toMatchObject({ code: 'read_only', field: 'buyerAccountId' });

  // Every account for an operator, its own for a seller.
  const all = await api('GET', '/v1/accounts?kind=seller', agent);
  expect(all.json.items.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining(['acme', 'rival', account.json.id]));
  expect(all.json.items.every((a: { kind: string }) => a.kind === 'seller')).toBe(true);
  expect((await api('GET', '/v1/accounts', keys.seller)).json).toEqual({ items: [expect.objectContaining({ id: 'acme' })], nextCursor: null });
});

it('a target deleted and a key revoked stay on record, deactivated', async () => {
  expect((await api('DELETE', '/v1/targets/bb-solar', keys.buyer)).json).toMatchObject({ id: 'bb-solar', active: false });
  const keysOf = await api('GET', '/v1/accounts/other/api-keys', admin);
  const keyId = keysOf.json.items[0].id;
  expect((await api('DELETE', `/v1/accounts/other/api-keys/${keyId}`, admin)).json).toMatchObject({ id: keyId, revokedAt: expect.any(String) });
  expect((await api('DELETE', `/v1/accounts/other/api-keys/${keyId}`, admin)).status).toBe(404);
  expect((await api('GET', '/v1/accounts/other/api-keys', admin)).json.items[0].revokedAt).not.toBeNull();
});

it('lists campaigns and targets a page at a time: every own row once, in id order, nobody else\'s, bad cursors refused', async () => {
  await api('POST', '/v1/accounts', admin, { id: 'pager', kind: 'buyer', name: 'Pager' });
  const pagerKey = (await api('POST', '/v1/api-keys', admin, { role: 'buyer', accountId: 'pager' })).json.key as string;
  await api('POST', '/v1/campaigns', admin, { id: 'paged', sellerAccountId: 'acme', name: 'Paged' });
  const ids = ['p-05', 'p-01', 'p-04', 'p-02', 'p-03'];
  for (const id of ids) {
    expect((await api('POST', '/v1/targets', pagerKey, { id, buyerAccountId: 'pager', campaignId: 'paged', name: id, bidCents: 100, destination: `sip:${id}@buyer.example` })).status).toBe(201);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await api('GET', `/v1/targets?limit=2${cursor ? `&cursor=${cursor}` : ''}`, pagerKey);
    expect(r.status).toBe(200);
    expect(r.json.items.length).toBeLessThanOrEqual(2);
    seen.push(...r.json.items.map((t: { id: string; buyerAccountId: string }) => { expect(t.buyerAccountId).toBe('pager'); return t.id; }));
    cursor = r.json.nextCursor;
    pages += 1;
  } while (cursor && pages < 10);
  expect(seen).toEqual([...ids].sort());
  expect(pages).toBe(3);

  // Admins page through everyone's; a seller's list holds its own campaigns only.
  const all = await api('GET', '/v1/targets?limit=1000', admin);
  expect(all.json.items.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining(['bb-solar', ...ids]));
  expect(all.json.nextCursor).toBeNull();
  const sellerPage = await api('GET', '/v1/campaigns?limit=1', keys.seller);
  expect(sellerPage.json.items).toHaveLength(1);
  expect(sellerPage.json.items[0].sellerAccountId).toBe('acme');
  const rival = await api('GET', '/v1/campaigns', keys.rival);
  expect(rival.json.items.every((c: { sellerAccountId: string }) => c.sellerAccountId === 'rival')).toBe(true);

  expect((await api('GET', '/v1/targets?limit=0', pagerKey)).json.error).toMatchObject({ code: 'validation_failed', field: 'limit' });
  expect((await api('GET', '/v1/targets?cursor=not*a*cursor', pagerKey)).json.error).toMatchObject({ code: 'validation_failed', field: 'cursor' });
  expect((await api('GET', `/v1/campaigns?cursor=${Buffer.from('bad id!').toString('base64url')}`, keys.seller)).json.error).toMatchObject({ code: 'validation_failed', field: 'cursor' });
});
