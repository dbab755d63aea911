/**
 * Cross-account access, route by route: every /v1 route a seller or buyer may call is called by account A's key
 * with a valid request naming account B's resource, and must be refused (403 or 404) and change nothing; list
 * routes must not show B's rows to A. The table must name every such route (a new one fails the test until it is
 * added here).
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { apiRouteDocs } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { recordConsent } from '../../app/store/compliance-repo';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { insertEndedCall } from '../support/billing';
import { startTestNode } from '../support/node';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { createEndpoint, insertDeliveries, rotateSecret } from '../../app/store/webhook-repo';
import { SecretBox } from '../../app/util/secret-box';

let infra: TestInfra;
let node: ExchangeNode;
const key: Record<'sellerA' | 'buyerA', string> = { sellerA: '', buyerA: '' };
let callA = '';
let callB = '';
let consentB = '';
const IMPORT_B = '7f0c2a43-52c8-4f4e-9d0c-2b1f8f1d9a11';
/** Webhook endpoints and deliveries by name (ENDPOINT_A: buyer A's, ENDPOINT_SA: seller A's, ...). */
const hooks: Record<string, string> = {};

beforeAll(async () => {
  infra = await createTestInfra('api_cross_account');
  for (const [id, kind] of [['seller-a', 'seller'], ['seller-b', 'seller'], ['buyer-a', 'buyer'], ['buyer-b', 'buyer']] as const) await seedAccount(infra.pool, { id, kind });
  await seedCampaign(infra.pool, { id: 'ca', sellerId: 'seller-a', dids: ['+18885550601'] });
  await seedCampaign(infra.pool, { id: 'cb', sellerId: 'seller-b', dids: ['+18885550602'], payoutCents: 500 });
  await seedTarget(infra.pool, { id: 'ta', buyerId: 'buyer-a', campaignId: 'ca', bidCents: 1500 });
  await seedTarget(infra.pool, { id: 'tb', buyerId: 'buyer-b', campaignId: 'cb', bidCents: 1500, convertOnSeconds: 10 });
  callA = await insertEndedCall(infra.pool, { campaignId: 'ca', sellerId: 'seller-a', ani: '+13035550600', billableSec: 60, targetId: 'ta', buyerId: 'buyer-a', priceCents: 1500 });
  await recordConsent(infra.pool, infra.redis, { campaignId: 'ca', number: '+13035550603', leadId: 'LA', source: 'form', consentedAt: new Date() });
  callB = await insertEndedCall(infra.pool, { campaignId: 'cb', sellerId: 'seller-b', ani: '+13035550601', billableSec: 60, targetId: 'tb', buyerId: 'buyer-b', priceCents: 1500 });
  await billEndedCalls(infra.pool, [callA, callB]);
  consentB = await recordConsent(infra.pool, infra.redis, { campaignId: 'cb', number: '+13035550602', leadId: 'L', source: 'form', consentedAt: new Date() });
  await seedWebhooks();
  // RTB targets, inactive so no call pings them: what GET /v1/rtb-stats lists
  await seedTarget(infra.pool, { id: 'rta', buyerId: 'buyer-a', campaignId: 'ca', bidCents: 0, rtbUrl: 'http://127.0.0.1:9/rtb', active: false });
  await seedTarget(infra.pool, { id: 'rtbb', buyerId: 'buyer-b', campaignId: 'cb', bidCents: 0, rtbUrl: 'http://127.0.0.1:9/rtb', active: false });
  await infra.redis.set(`dnc:import:${IMPORT_B}`, JSON.stringify({ id: IMPORT_B, listId: 'campaign:cb', source: 'b', status: 'done', lines: 1, accepted: 1, written: 1, rejected: 0, rejectedSamples: [], startedAt: new Date().toISOString() }));
  node = await startTestNode(infra, { API_RATE_LIMIT_PER_SECOND: '100000', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  key.sellerA = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-a' })).key;
  key.buyerA = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-a' })).key;
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

/** An endpoint and a secret for each account, and a dead delivery of each account's call to its buyer. */
async function seedWebhooks(): Promise<void> {
  const box = SecretBox.fromKey(undefined);
  const owners: Record<string, string> = { ENDPOINT_A: 'buyer-a', ENDPOINT_B: 'buyer-b', ENDPOINT_SA: 'seller-a', ENDPOINT_SB: 'seller-b' };
  for (const [name, accountId] of Object.entries(owners)) {
    hooks[name] = (await createEndpoint(infra.pool, { accountId, url: `https://hooks.example.com/${accountId}`, events: ['call.ended'] })).id;
    await rotateSecret(infra.pool, box, accountId);
  }
  for (const [name, endpoint, callId] of [['DELIVERY_A', 'ENDPOINT_A', callA], ['DELIVERY_B', 'ENDPOINT_B', callB]] as const) {
    const [id] = await insertDeliveries(infra.pool, [{ eventId: `evt_${callId}`, eventType: 'call.ended', callId, accountId: owners[endpoint]!, endpointId: hooks[endpoint]!, url: 'https://hooks.example.com/', body: JSON.stringify({ type: 'call.ended', data: { call: { callId } } }) }]);
    await infra.pool.query("UPDATE webhook_deliveries SET status = 'dead', attempts = 3 WHERE id = $1", [id]);
    hooks[name] = id!;
  }
}

async function send(method: string, path: string, k: string, body?: unknown, contentType = 'application/json') {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method: method.toUpperCase(),
    headers: { authorization: `Bearer ${k}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, text };
}

/** Everything account B owns, as one string: compared before and after the refused requests. */
async function stateOfB(): Promise<string> {
  const q = async (sql: string) => JSON.stringify((await infra.pool.query(sql)).rows);
  return [
    await q("SELECT * FROM campaigns WHERE seller_account_id = 'seller-b' ORDER BY id"),
    await q("SELECT did, campaign_id, active FROM tracking_numbers WHERE seller_account_id = 'seller-b' ORDER BY did"),
    await q("SELECT * FROM buyer_targets WHERE buyer_account_id = 'buyer-b' ORDER BY id"),
    await q("SELECT id, revoked_at FROM consent_records WHERE campaign_id = 'cb' ORDER BY id"),
    await q("SELECT list_id, number FROM dnc_entries WHERE list_id IN ('campaign:cb', 'seller:seller-b') ORDER BY list_id, number"),
    await q("SELECT id FROM consent_revocations WHERE seller_account_id = 'seller-b' ORDER BY id"),
    await q("SELECT id, balance_cents FROM accounts WHERE id IN ('seller-b', 'buyer-b') ORDER BY id"),
    await q("SELECT * FROM webhook_endpoints WHERE account_id IN ('seller-b', 'buyer-b') ORDER BY id"),
    await q("SELECT account_id, secret, rotated_at FROM webhook_secrets WHERE account_id IN ('seller-b', 'buyer-b') ORDER BY account_id"),
    await q("SELECT id, status, attempts FROM webhook_deliveries WHERE account_id IN ('seller-b', 'buyer-b') ORDER BY id"),
  ].join('\n');
}

type Probe = { as: keyof typeof key; method: string; url: string; body?: unknown; contentType?: string; mine?: string };
/** A request by account A that names account B's resource; each must be refused. */
const REFUSED: Record<string, Probe[]> = {
  'get /v1/calls/:id': [{ as: 'sellerA', method: 'get', url: `/v1/calls/CALL_B` }, { as: 'buyerA', method: 'get', url: `/v1/calls/CALL_B` }],
  'post /v1/outbound-calls': [{ as: 'sellerA', method: 'post', url: '/v1/outbound-calls', body: { campaignId: 'cb', to: '+13125550100' } }],
  'patch /v1/targets/:id/bid': [{ as: 'buyerA', method: 'patch', url: '/v1/targets/tb/bid', body: { bidCents: 1 } }],
  'post /v1/dnc/imports': [{ as: 'sellerA', method: 'post', url: '/v1/dnc/imports?list=campaign:cb', body: '+13125550101\n', contentType: 'text/plain' }],
  'get /v1/dnc/imports/:id': [{ as: 'sellerA', method: 'get', url: `/v1/dnc/imports/${IMPORT_B}` }],
  'post /v1/dnc': [{ as: 'sellerA', method: 'post', url: '/v1/dnc', body: { list: 'campaign:cb', number: '+13125550102' } }, { as: 'sellerA', method: 'post', url: '/v1/dnc', body: { list: 'seller:seller-b', number: '+13125550102' } }],
  'get /v1/dnc/:list/:number': [{ as: 'sellerA', method: 'get', url: '/v1/dnc/campaign:cb/%2B13125550102' }, { as: 'sellerA', method: 'get', url: '/v1/dnc/seller:seller-b/%2B13125550102' }],
  'delete /v1/dnc/:list/:number': [{ as: 'sellerA', method: 'delete', url: '/v1/dnc/campaign:cb/%2B13125550102' }, { as: 'sellerA', method: 'delete', url: '/v1/dnc/seller:seller-b/%2B13125550102' }],
  'get /v1/accounts/:id/balance': [{ as: 'sellerA', method: 'get', url: '/v1/accounts/seller-b/balance' }, { as: 'buyerA', method: 'get', url: '/v1/accounts/buyer-b/balance' }],
  'get /v1/accounts/:id/ledger': [{ as: 'sellerA', method: 'get', url: '/v1/accounts/seller-b/ledger' }, { as: 'buyerA', method: 'get', url: '/v1/accounts/buyer-b/ledger' }],
  'get /v1/accounts/:id/invoice': [{ as: 'sellerA', method: 'get', url: '/v1/accounts/seller-b/invoice' }, { as: 'buyerA', method: 'get', url: '/v1/accounts/buyer-b/invoice' }],
  'get /v1/accounts/:id': [{ as: 'sellerA', method: 'get', url: '/v1/accounts/seller-b' }, { as: 'buyerA', method: 'get', url: '/v1/accounts/buyer-b' }],
  'post /v1/campaigns': [{ as: 'sellerA', method: 'post', url: '/v1/campaigns', body: { id: 'sneaky', sellerAccountId: 'seller-b', name: 'x' } }],
  'get /v1/campaigns/:id': [{ as: 'sellerA', method: 'get', url: '/v1/campaigns/cb' }],
  'patch /v1/campaigns/:id': [{ as: 'sellerA', method: 'patch', url: '/v1/campaigns/cb', body: { floorCents: 99999 } }],
  'post /v1/campaigns/:id/numbers': [{ as: 'sellerA', method: 'post', url: '/v1/campaigns/cb/numbers', body: { did: '+18885550699' } }],
  'delete /v1/campaigns/:id/numbers/:did': [{ as: 'sellerA', method: 'delete', url: '/v1/campaigns/cb/numbers/%2B18885550602' }],
  'post /v1/targets': [{ as: 'buyerA', method: 'post', url: '/v1/targets', body: { id: 'sneaky', buyerAccountId: 'buyer-b', campaignId: 'cb', name: 'x', bidCents: 1, destination: 'sip:sneaky@buyers.example' } }],
  'get /v1/targets/:id': [{ as: 'buyerA', method: 'get', url: '/v1/targets/tb' }],
  'patch /v1/targets/:id': [{ as: 'buyerA', method: 'patch', url: '/v1/targets/tb', body: { bidCents: 1 } }],
  'delete /v1/targets/:id': [{ as: 'buyerA', method: 'delete', url: '/v1/targets/tb' }],
  'post /v1/consents': [{ as: 'sellerA', method: 'post', url: '/v1/consents', body: { campaignId: 'cb', number: '+13125550103', leadId: 'x', source: 'x', consentedAt: '2026-11-01T00:00:00Z' } }],
  'delete /v1/consents/:id': [{ as: 'sellerA', method: 'delete', url: '/v1/consents/CONSENT_B' }],
  'post /v1/consent-revocations': [
    { as: 'sellerA', method: 'post', url: '/v1/consent-revocations', body: { number: '+13035550602', campaignId: 'cb' } },
    { as: 'sellerA', method: 'post', url: '/v1/consent-revocations', body: { number: '+13035550602', sellerAccountId: 'seller-b' } },
  ],
  'post /rtb/ping': [{ as: 'sellerA', method: 'post', url: '/rtb/ping', body: { campaignId: 'cb', callerId: '+13125550104', zip: '60601' } }],
  'get /v1/rtb/pings/stats': [{ as: 'sellerA', method: 'get', url: '/v1/rtb/pings/stats?sellerAccountId=seller-b' }],
  'get /v1/targets/:id/rtb-stats': [{ as: 'buyerA', method: 'get', url: '/v1/targets/rtbb/rtb-stats' }],
  'post /v1/webhooks/endpoints': [
    { as: 'buyerA', method: 'post', url: '/v1/webhooks/endpoints', body: { accountId: 'buyer-b', url: 'https://hooks.example.com/x', events: ['call.ended'] } },
    { as: 'sellerA', method: 'post', url: '/v1/webhooks/endpoints', body: { accountId: 'seller-b', url: 'https://hooks.example.com/x', events: ['call.ended'] } },
  ],
  'get /v1/webhooks/endpoints/:id': [{ as: 'buyerA', method: 'get', url: '/v1/webhooks/endpoints/ENDPOINT_B' }, { as: 'sellerA', method: 'get', url: '/v1/webhooks/endpoints/ENDPOINT_SB' }],
  'patch /v1/webhooks/endpoints/:id': [{ as: 'buyerA', method: 'patch', url: '/v1/webhooks/endpoints/ENDPOINT_B', body: { active: false } }, { as: 'sellerA', method: 'patch', url: '/v1/webhooks/endpoints/ENDPOINT_SB', body: { url: 'https://hooks.example.com/stolen' } }],
  'delete /v1/webhooks/endpoints/:id': [{ as: 'buyerA', method: 'delete', url: '/v1/webhooks/endpoints/ENDPOINT_B' }, { as: 'sellerA', method: 'delete', url: '/v1/webhooks/endpoints/ENDPOINT_SB' }],
  'post /v1/accounts/:id/webhook-secret': [{ as: 'buyerA', method: 'post', url: '/v1/accounts/buyer-b/webhook-secret' }, { as: 'sellerA', method: 'post', url: '/v1/accounts/seller-b/webhook-secret' }],
  'get /v1/accounts/:id/webhook-secret': [{ as: 'buyerA', method: 'get', url: '/v1/accounts/buyer-b/webhook-secret' }, { as: 'sellerA', method: 'get', url: '/v1/accounts/seller-b/webhook-secret' }],
  'get /v1/webhooks/deliveries/:id': [{ as: 'buyerA', method: 'get', url: '/v1/webhooks/deliveries/DELIVERY_B' }, { as: 'sellerA', method: 'get', url: '/v1/webhooks/deliveries/DELIVERY_B' }],
  'post /v1/webhooks/deliveries/:id/redeliver': [{ as: 'buyerA', method: 'post', url: '/v1/webhooks/deliveries/DELIVERY_B/redeliver' }, { as: 'sellerA', method: 'post', url: '/v1/webhooks/deliveries/DELIVERY_B/redeliver' }],
};
/** List routes: what A's key gets back must not mention B's rows. */
const LISTS: Record<string, Probe[]> = {
  'get /v1/calls': [{ as: 'sellerA', method: 'get', url: '/v1/calls', mine: 'CALL_A' }, { as: 'buyerA', method: 'get', url: '/v1/calls', mine: 'CALL_A' }],
  'get /v1/calls/export.csv': [{ as: 'sellerA', method: 'get', url: '/v1/calls/export.csv', mine: 'CALL_A' }, { as: 'buyerA', method: 'get', url: '/v1/calls/export.csv', mine: 'CALL_A' }],
  'get /v1/campaigns': [{ as: 'sellerA', method: 'get', url: '/v1/campaigns', mine: '"ca"' }],
  'get /v1/targets': [{ as: 'buyerA', method: 'get', url: '/v1/targets', mine: '"ta"' }],
  'get /v1/consents': [{ as: 'sellerA', method: 'get', url: '/v1/consents?includeRevoked=true', mine: '"LA"' }],
  'get /v1/accounts': [{ as: 'sellerA', method: 'get', url: '/v1/accounts', mine: '"seller-a"' }, { as: 'buyerA', method: 'get', url: '/v1/accounts', mine: '"buyer-a"' }],
  'get /v1/numbers': [{ as: 'sellerA', method: 'get', url: '/v1/numbers', mine: '"+18885550601"' }],
  'get /v1/balances': [{ as: 'sellerA', method: 'get', url: '/v1/balances', mine: '"seller-a"' }, { as: 'buyerA', method: 'get', url: '/v1/balances', mine: '"buyer-a"' }],
  'get /v1/settlements': [{ as: 'sellerA', method: 'get', url: '/v1/settlements', mine: '"items"' }, { as: 'buyerA', method: 'get', url: '/v1/settlements', mine: '"items"' }],
  'get /v1/dnc': [{ as: 'sellerA', method: 'get', url: '/v1/dnc?list=campaign:ca', mine: '"items"' }],
  'get /v1/webhooks/endpoints': [{ as: 'buyerA', method: 'get', url: '/v1/webhooks/endpoints', mine: 'ENDPOINT_A' }, { as: 'sellerA', method: 'get', url: '/v1/webhooks/endpoints', mine: 'ENDPOINT_SA' }],
  'get /v1/webhooks/deliveries': [{ as: 'buyerA', method: 'get', url: '/v1/webhooks/deliveries', mine: 'CALL_A' }, { as: 'buyerA', method: 'get', url: '/v1/webhooks/deliveries?status=dead', mine: 'DELIVERY_A' }],
  'get /v1/rtb-stats': [{ as: 'buyerA', method: 'get', url: '/v1/rtb-stats', mine: '"rta"' }],
  'get /v1/reports/calls': [
    { as: 'sellerA', method: 'get', url: '/v1/reports/calls?groupBy=campaign&bucket=day&RANGE', mine: '"ca"' },
    { as: 'buyerA', method: 'get', url: '/v1/reports/calls?groupBy=campaign&bucket=day&RANGE', mine: '"ca"' },
  ],
};

const RANGE = `from=${new Date(Date.now() - 7 * 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`;
const url = (u: string): string => u.replace('CALL_A', callA).replace('CALL_B', callB).replace('CONSENT_B', consentB).replace('RANGE', RANGE)
  .replace(/\b(ENDPOINT_SA|ENDPOINT_SB|ENDPOINT_A|ENDPOINT_B|DELIVERY_A|DELIVERY_B)\b/, (m) => hooks[m] ?? m);

it('names every route a seller or buyer may call', () => {
  const scoped = apiRouteDocs.filter((d) => d.roles.includes('seller') || d.roles.includes('buyer')).map((d) => `${d.method} ${d.path}`);
  expect(scoped.filter((r) => !(r in REFUSED) && !(r in LISTS))).toEqual([]);
});

it("refuses account A every request on account B's resources, and changes nothing of B's", async () => {
  const before = await stateOfB();
  for (const [route, probes] of Object.entries(REFUSED)) {
    for (const p of probes) {
      const r = await send(p.method, url(p.url), key[p.as], p.body, p.contentType);
      expect([route, p.as, [403, 404].includes(r.status) ? 'refused' : `${r.status} ${r.text.slice(0, 200)}`]).toEqual([route, p.as, 'refused']);
    }
  }
  expect(await stateOfB()).toBe(before);
  expect(await infra.redis.sismember('dnc:campaign:cb', '+13125550101')).toBe(0);
});

it("shows account A its own rows and none of account B's in lists", async () => {
  for (const [route, probes] of Object.entries(LISTS)) {
    for (const p of probes) {
      const r = await send(p.method, url(p.url), key[p.as]);
      expect([route, p.as, r.status]).toEqual([route, p.as, 200]);
      expect([route, p.as, r.text.includes(url(p.mine!)) ? 'sees its own' : r.text.slice(0, 200)]).toEqual([route, p.as, 'sees its own']);
      for (const secret of [callB, 'seller-b', 'buyer-b', '"cb"', '"tb"']) expect([route, p.as, r.text.includes(secret) ? secret : 'clean']).toEqual([route, p.as, 'clean']);
    }
  }
});
