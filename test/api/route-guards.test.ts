/**
 * Every route under /v1, guarded, route by route. The route list is the app's own: the routes its routers serve
 * and the route table /openapi.json is built from (apiRouteDocs) must be the same set, and CASES below must name
 * each of them, so a new route fails this test until it has its cases. For every route:
 *   - a request without a key, or with an unknown one, gets 401 and the JSON error shape {error: {code, message}};
 *   - a key of each role the route does not list gets 403 forbidden, even for a request that would succeed;
 *   - a bad body, path parameter or query gets 400 validation_failed naming the field (routes without input say so);
 *   - a seller's or buyer's key naming another account's resource is refused (403 or 404), and lists show an
 *     account its own rows and none of the other's;
 *   - none of the refused requests above changes anything (Postgres and the Redis copy screening reads);
 *   - a valid request by each role the route lists succeeds (so a documented role is a role that works).
 * One node; keys for admin and agent, and for two accounts of each kind (seller A and B, buyer A and B).
 */
import { complianceKeys } from '../../app/cache/compliance-keys';
import { apiRouteDocs, type ExchangeNode } from '../../app/exchange-node';
import { createApiKey, type Role } from '../../app/store/api-keys';
import { recordConsent, addDncNumbers, blockNumber } from '../../app/store/compliance-repo';
import { billEndedCalls } from '../../app/store/ledger-repo';
import { pauseNumber } from '../../app/store/fraud-repo';
import { billingQueue } from '../../app/jobs/queues';
import { BillingWorker } from '../../app/jobs/billing-worker';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, eventually, TEST_REDIS_URL, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { insertEndedCall } from '../support/billing';
import { startTestNode } from '../support/node';
import { createEndpoint, insertDeliveries, rotateSecret } from '../../app/store/webhook-repo';
import { SecretBox } from '../../app/util/secret-box';
import { schemaErrors } from '../support/json-schema';

type KeyName = 'admin' | 'agent' | 'sellerA' | 'sellerB' | 'buyerA' | 'buyerB';
const ROLE_OF: Record<KeyName, Role> = { admin: 'admin', agent: 'agent', sellerA: 'seller', sellerB: 'seller', buyerA: 'buyer', buyerB: 'buyer' };
/** The key a role's probes use when the table names none: account A's for sellers and buyers. */
const KEY_OF_ROLE: Record<Role, KeyName> = { admin: 'admin', agent: 'agent', seller: 'sellerA', buyer: 'buyerA' };

interface Probe {
  as: KeyName;
  /** with placeholders (CALL_A, CONSENT_B, RANGE...) filled in at run time */
  url: string;
  body?: unknown;
  /** a text/plain body instead of JSON */
  text?: string;
}
interface Case {
  /** a valid request for each role the route lists, and the status it succeeds with */
  ok: Array<Probe & { status: number }>;
  /** a request with one bad field, refused with 400 validation_failed naming it; or why the route has none */
  invalid: (Probe & { field: string }) | 'takes no input';
  /** account A's key naming account B's resource: must be refused (403 or 404) */
  refused?: Probe[];
  /** a list: what the key gets shows `mine` and none of the other account's markers */
  lists?: Array<Probe & { mine: string }>;
}

const NUM = (n: string): string => encodeURIComponent(n);
const LONG_ID = 'x'.repeat(101);
const IMPORT_A = '5a0f7c1e-3b7d-4c59-9a43-7d7a1b9c0a01';
const IMPORT_B = '5a0f7c1e-3b7d-4c59-9a43-7d7a1b9c0a02';
const consentBody = (campaignId: string, number: string) => ({ campaignId, number, leadId: 'lead', source: 'web form', consentedAt: '2026-11-01T00:00:00Z' });
const targetBody = (id: string, buyerAccountId: string) => ({ id, buyerAccountId, campaignId: 'ca', name: id, bidCents: 100, destination: `sip:${id}@buyers.example` });

const CASES: Record<string, Case> = {
  // ---- calls ------------------------------------------------------------------------------------------------------
  'get /v1/calls': {
    ok: [{ as: 'admin', url: '/v1/calls', status: 200 }, { as: 'agent', url: '/v1/calls', status: 200 }, { as: 'sellerA', url: '/v1/calls', status: 200 }, { as: 'buyerA', url: '/v1/calls', status: 200 }],
    invalid: { as: 'admin', url: '/v1/calls?limit=0', field: 'limit' },
    lists: [
      { as: 'sellerA', url: '/v1/calls', mine: 'CALL_A' }, { as: 'buyerA', url: '/v1/calls', mine: 'CALL_A' },
      { as: 'sellerB', url: '/v1/calls', mine: 'CALL_B' }, { as: 'buyerB', url: '/v1/calls', mine: 'CALL_B' },
      { as: 'sellerA', url: '/v1/calls?campaignId=cb', mine: '"items":[]' },
    ],
  },
  'get /v1/calls/export.csv': {
    ok: [{ as: 'admin', url: '/v1/calls/export.csv', status: 200 }, { as: 'agent', url: '/v1/calls/export.csv', status: 200 }, { as: 'sellerA', url: '/v1/calls/export.csv', status: 200 }, { as: 'buyerA', url: '/v1/calls/export.csv', status: 200 }],
    invalid: { as: 'admin', url: '/v1/calls/export.csv?outcome=planet', field: 'outcome' },
    lists: [
      { as: 'sellerA', url: '/v1/calls/export.csv', mine: 'CALL_A' }, { as: 'buyerA', url: '/v1/calls/export.csv', mine: 'CALL_A' },
      { as: 'sellerB', url: '/v1/calls/export.csv', mine: 'CALL_B' }, { as: 'buyerB', url: '/v1/calls/export.csv', mine: 'CALL_B' },
    ],
  },
  'get /v1/calls/:id': {
    ok: [{ as: 'admin', url: '/v1/calls/CALL_B', status: 200 }, { as: 'agent', url: '/v1/calls/CALL_B', status: 200 }, { as: 'sellerA', url: '/v1/calls/CALL_A', status: 200 }, { as: 'buyerA', url: '/v1/calls/CALL_A', status: 200 }],
    invalid: { as: 'admin', url: `/v1/calls/${LONG_ID}`, field: 'id' },
    refused: [{ as: 'sellerA', url: '/v1/calls/CALL_B' }, { as: 'buyerA', url: '/v1/calls/CALL_B' }],
  },
  'post /v1/outbound-calls': {
    ok: [
      { as: 'admin', url: '/v1/outbound-calls', body: { campaignId: 'ca', to: '+13125550140', zip: '60601' }, status: 202 },
      { as: 'sellerA', url: '/v1/outbound-calls', body: { campaignId: 'ca', to: '+13125550141', zip: '60601' }, status: 202 },
    ],
    invalid: { as: 'admin', url: '/v1/outbound-calls', body: { campaignId: 'ca', to: '12' }, field: 'to' },
    refused: [{ as: 'sellerA', url: '/v1/outbound-calls', body: { campaignId: 'cb', to: '+13125550142', zip: '60601' } }],
  },
  // ---- bids and targets ---------------------------------------------------------------------------------------------
  'patch /v1/targets/:id/bid': {
    ok: [{ as: 'admin', url: '/v1/targets/ta/bid', body: { bidCents: 1700 }, status: 200 }, { as: 'buyerA', url: '/v1/targets/ta/bid', body: { bidCents: 1600 }, status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/targets/ta/bid', body: { bidCents: -1 }, field: 'bidCents' },
    refused: [{ as: 'buyerA', url: '/v1/targets/tb/bid', body: { bidCents: 1 } }],
  },
  'post /v1/targets': {
    ok: [{ as: 'admin', url: '/v1/targets', body: targetBody('ta-admin', 'buyer-a'), status: 201 }, { as: 'buyerA', url: '/v1/targets', body: targetBody('ta-new', 'buyer-a'), status: 201 }],
    invalid: { as: 'buyerA', url: '/v1/targets', body: { ...targetBody('ta-bad', 'buyer-a'), bidCents: -1 }, field: 'bidCents' },
    refused: [{ as: 'buyerA', url: '/v1/targets', body: targetBody('sneaky', 'buyer-b') }],
  },
  'get /v1/targets': {
    ok: [{ as: 'admin', url: '/v1/targets', status: 200 }, { as: 'agent', url: '/v1/targets', status: 200 }, { as: 'buyerA', url: '/v1/targets', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/targets?cursor=%24%24', field: 'cursor' },
    lists: [{ as: 'buyerA', url: '/v1/targets', mine: '"ta"' }, { as: 'buyerB', url: '/v1/targets', mine: '"tb"' }],
  },
  'get /v1/targets/:id/rtb-stats': {
    ok: [{ as: 'admin', url: '/v1/targets/tb/rtb-stats', status: 200 }, { as: 'agent', url: '/v1/targets/tb/rtb-stats', status: 200 }, { as: 'buyerA', url: '/v1/targets/ta/rtb-stats', status: 200 }],
    invalid: { as: 'admin', url: '/v1/targets/bad%20id!/rtb-stats', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/targets/tb/rtb-stats' }],
  },
  'get /v1/rtb-stats': {
    ok: [{ as: 'admin', url: '/v1/rtb-stats', status: 200 }, { as: 'agent', url: '/v1/rtb-stats?buyerAccountId=buyer-b', status: 200 }, { as: 'buyerA', url: '/v1/rtb-stats', status: 200 }],
    invalid: { as: 'admin', url: '/v1/rtb-stats?buyerAccountId=bad%20id!', field: 'buyerAccountId' },
    refused: [{ as: 'buyerA', url: '/v1/rtb-stats?buyerAccountId=buyer-b' }],
    lists: [{ as: 'buyerA', url: '/v1/rtb-stats', mine: '"rta"' }, { as: 'buyerB', url: '/v1/rtb-stats', mine: '"rtbb"' }],
  },
  'get /v1/targets/:id': {
    ok: [{ as: 'admin', url: '/v1/targets/tb', status: 200 }, { as: 'agent', url: '/v1/targets/tb', status: 200 }, { as: 'buyerA', url: '/v1/targets/ta', status: 200 }],
    invalid: { as: 'admin', url: '/v1/targets/bad%20id!', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/targets/tb' }],
  },
  'patch /v1/targets/:id': {
    ok: [{ as: 'admin', url: '/v1/targets/ta', body: { name: 'renamed by admin' }, status: 200 }, { as: 'buyerA', url: '/v1/targets/ta', body: { name: 'renamed' }, status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/targets/ta', body: { capHourly: 0 }, field: 'capHourly' },
    refused: [{ as: 'buyerA', url: '/v1/targets/tb', body: { bidCents: 1 } }],
  },
  'delete /v1/targets/:id': {
    ok: [{ as: 'admin', url: '/v1/targets/ta-del2', status: 200 }, { as: 'buyerA', url: '/v1/targets/ta-del', status: 200 }],
    invalid: { as: 'admin', url: '/v1/targets/bad%20id!', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/targets/tb' }],
  },
  // ---- DNC lists ----------------------------------------------------------------------------------------------------
  'post /v1/dnc/imports': {
    ok: [
      { as: 'admin', url: '/v1/dnc/imports?list=global&source=guards', text: '+13125550150\n', status: 201 },
      { as: 'sellerA', url: '/v1/dnc/imports?list=campaign:ca&source=guards', text: '+13125550151\n', status: 201 },
    ],
    invalid: { as: 'admin', url: '/v1/dnc/imports?list=bogus', text: '+13125550152\n', field: 'list' },
    refused: [{ as: 'sellerA', url: '/v1/dnc/imports?list=campaign:cb', text: '+13125550153\n' }],
  },
  'get /v1/dnc/imports/:id': {
    ok: [{ as: 'admin', url: `/v1/dnc/imports/${IMPORT_B}`, status: 200 }, { as: 'sellerA', url: `/v1/dnc/imports/${IMPORT_A}`, status: 200 }],
    invalid: { as: 'admin', url: '/v1/dnc/imports/not-a-uuid', field: 'id' },
    refused: [{ as: 'sellerA', url: `/v1/dnc/imports/${IMPORT_B}` }],
  },
  'post /v1/dnc/registry-copies': {
    ok: [{ as: 'admin', url: '/v1/dnc/registry-copies?kind=ca&registryDate=2026-11-30&source=guards', text: '+14165550100\n', status: 201 }],
    invalid: { as: 'admin', url: '/v1/dnc/registry-copies?kind=uk&registryDate=2026-11-30', text: '+14165550101\n', field: 'kind' },
  },
  'get /v1/dnc/registry-copies': { ok: [{ as: 'admin', url: '/v1/dnc/registry-copies', status: 200 }], invalid: 'takes no input' },
  'post /v1/rnd/results': {
    ok: [{ as: 'admin', url: '/v1/rnd/results', body: { results: [{ number: '+13125550170', disconnectedOn: '2026-10-01' }] }, status: 201 }],
    invalid: { as: 'admin', url: '/v1/rnd/results', body: { results: [{ number: '+13125550171', disconnectedOn: '2026-02-30' }] }, field: 'results.0.disconnectedOn' },
  },
  'post /v1/litigators/imports': {
    ok: [{ as: 'admin', url: '/v1/litigators/imports?source=guards&listedOn=2026-11-30', text: '+13125550172\n', status: 201 }],
    invalid: { as: 'admin', url: '/v1/litigators/imports?source=guards', text: '+13125550173\n', field: 'listedOn' },
  },
  'get /v1/litigators/:number': { ok: [{ as: 'admin', url: `/v1/litigators/${NUM('+13125550172')}`, status: 200 }], invalid: { as: 'admin', url: '/v1/litigators/abc', field: 'number' } },
  'delete /v1/litigators/:number': { ok: [{ as: 'admin', url: `/v1/litigators/${NUM('+13125550174')}`, status: 200 }], invalid: { as: 'admin', url: '/v1/litigators/abc', field: 'number' } },
  'post /v1/dnc': {
    ok: [
      { as: 'admin', url: '/v1/dnc', body: { list: 'global', number: '+13125550154' }, status: 201 },
      { as: 'sellerA', url: '/v1/dnc', body: { list: 'campaign:ca', number: '+13125550155' }, status: 201 },
    ],
    invalid: { as: 'sellerA', url: '/v1/dnc', body: { list: 'campaign:ca', number: '12' }, field: 'number' },
    refused: [{ as: 'sellerA', url: '/v1/dnc', body: { list: 'campaign:cb', number: '+13125550156' } }],
  },
  'get /v1/dnc/:list/:number': {
    ok: [
      { as: 'admin', url: `/v1/dnc/global/${NUM('+13125550157')}`, status: 200 },
      { as: 'agent', url: `/v1/dnc/campaign:cb/${NUM('+13125550160')}`, status: 200 },
      { as: 'sellerA', url: `/v1/dnc/campaign:ca/${NUM('+13125550158')}`, status: 200 },
    ],
    invalid: { as: 'admin', url: `/v1/dnc/bogus/${NUM('+13125550157')}`, field: 'list' },
    refused: [{ as: 'sellerA', url: `/v1/dnc/campaign:cb/${NUM('+13125550160')}` }],
  },
  'delete /v1/dnc/:list/:number': {
    ok: [
      { as: 'admin', url: `/v1/dnc/campaign:ca/${NUM('+13125550159')}`, status: 200 },
      { as: 'sellerA', url: `/v1/dnc/campaign:ca/${NUM('+13125550158')}`, status: 200 },
    ],
    invalid: { as: 'sellerA', url: '/v1/dnc/campaign:ca/abc', field: 'number' },
    refused: [{ as: 'sellerA', url: `/v1/dnc/campaign:cb/${NUM('+13125550160')}` }],
  },
  // ---- money --------------------------------------------------------------------------------------------------------
  'get /v1/accounts/:id/balance': {
    ok: [{ as: 'admin', url: '/v1/accounts/seller-b/balance', status: 200 }, { as: 'sellerA', url: '/v1/accounts/seller-a/balance', status: 200 }, { as: 'buyerA', url: '/v1/accounts/buyer-a/balance', status: 200 }],
    invalid: { as: 'admin', url: `/v1/accounts/${LONG_ID}/balance`, field: 'id' },
    refused: [{ as: 'sellerA', url: '/v1/accounts/seller-b/balance' }, { as: 'buyerA', url: '/v1/accounts/buyer-b/balance' }, { as: 'sellerA', url: '/v1/accounts/buyer-b/balance' }],
  },
  'get /v1/accounts/:id/ledger': {
    ok: [{ as: 'admin', url: '/v1/accounts/seller-b/ledger', status: 200 }, { as: 'sellerA', url: '/v1/accounts/seller-a/ledger', status: 200 }, { as: 'buyerA', url: '/v1/accounts/buyer-a/ledger', status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/accounts/seller-a/ledger?limit=0', field: 'limit' },
    refused: [{ as: 'sellerA', url: '/v1/accounts/seller-b/ledger' }, { as: 'buyerA', url: '/v1/accounts/buyer-b/ledger' }],
  },
  'get /v1/accounts/:id/invoice': {
    ok: [
      { as: 'admin', url: '/v1/accounts/seller-b/invoice?RANGE', status: 200 },
      { as: 'sellerA', url: '/v1/accounts/seller-a/invoice?RANGE&format=csv', status: 200 },
      { as: 'buyerA', url: '/v1/accounts/buyer-a/invoice?RANGE', status: 200 },
    ],
    invalid: { as: 'sellerA', url: '/v1/accounts/seller-a/invoice?from=yesterday&to=2026-12-01T00:00:00Z', field: 'from' },
    refused: [{ as: 'sellerA', url: '/v1/accounts/seller-b/invoice?RANGE' }, { as: 'buyerA', url: '/v1/accounts/buyer-b/invoice?RANGE' }],
  },
  'post /v1/settlements': {
    ok: [{ as: 'admin', url: '/v1/settlements', body: { accountId: 'seller-a', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, status: 201 }],
    invalid: { as: 'admin', url: '/v1/settlements', body: { accountId: 'seller-a', from: 'soon', to: '2026-02-01T00:00:00Z' }, field: 'from' },
  },
  'post /v1/refunds': {
    ok: [{ as: 'admin', url: '/v1/refunds', body: { callId: 'CALL_A', reason: 'disputed' }, status: 201 }],
    invalid: { as: 'admin', url: '/v1/refunds', body: { callId: '', reason: 'disputed' }, field: 'callId' },
  },
  'post /v1/adjustments': {
    ok: [{ as: 'admin', url: '/v1/adjustments', body: { idempotencyKey: 'guards-0001', memo: 'top-up', postings: [{ accountId: 'buyer-a', amountCents: 100 }, { accountId: 'platform', amountCents: -100 }] }, status: 201 }],
    invalid: { as: 'admin', url: '/v1/adjustments', body: { idempotencyKey: 'guards-0002', memo: 'top-up', postings: [{ accountId: 'buyer-a', amountCents: 100 }, { accountId: 'platform', amountCents: -99 }] }, field: 'postings' },
  },
  // ---- jobs, block list, privacy --------------------------------------------------------------------------------------
  'get /v1/jobs/billing/backlog': {
    ok: [{ as: 'admin', url: '/v1/jobs/billing/backlog', status: 200 }, { as: 'agent', url: '/v1/jobs/billing/backlog', status: 200 }],
    invalid: 'takes no input',
  },
  'get /v1/jobs/:queue/failed': {
    ok: [{ as: 'admin', url: '/v1/jobs/billing/failed', status: 200 }, { as: 'agent', url: '/v1/jobs/fraud/failed', status: 200 }],
    invalid: { as: 'admin', url: '/v1/jobs/nope/failed', field: 'queue' },
  },
  'post /v1/jobs/:queue/:id/retry': {
    ok: [{ as: 'admin', url: '/v1/jobs/billing/gone/retry', status: 202 }],
    invalid: { as: 'admin', url: '/v1/jobs/nope/gone/retry', field: 'queue' },
  },
  'get /v1/fraud/blocks': {
    ok: [{ as: 'admin', url: '/v1/fraud/blocks', status: 200 }, { as: 'agent', url: '/v1/fraud/blocks?limit=1', status: 200 }],
    invalid: { as: 'agent', url: '/v1/fraud/blocks?limit=0', field: 'limit' },
  },
  'get /v1/fraud/blocks/:number': {
    ok: [{ as: 'admin', url: `/v1/fraud/blocks/${NUM('+13125550170')}`, status: 200 }, { as: 'agent', url: `/v1/fraud/blocks/${NUM('+13125550170')}`, status: 200 }],
    invalid: { as: 'agent', url: '/v1/fraud/blocks/abc', field: 'number' },
  },
  'post /v1/fraud/blocks': {
    ok: [{ as: 'admin', url: '/v1/fraud/blocks', body: { number: '+13125550171', reason: 'abuse report' }, status: 201 }],
    invalid: { as: 'admin', url: '/v1/fraud/blocks', body: { number: '+13125550171', reason: ' ' }, field: 'reason' },
  },
  'delete /v1/fraud/blocks/:number': {
    ok: [{ as: 'admin', url: `/v1/fraud/blocks/${NUM('+13125550172')}`, status: 200 }],
    invalid: { as: 'admin', url: '/v1/fraud/blocks/abc', field: 'number' },
  },
  'get /v1/fraud/paused-numbers': {
    ok: [{ as: 'admin', url: '/v1/fraud/paused-numbers', status: 200 }, { as: 'agent', url: '/v1/fraud/paused-numbers?limit=1', status: 200 }],
    invalid: { as: 'agent', url: '/v1/fraud/paused-numbers?limit=0', field: 'limit' },
  },
  'post /v1/fraud/paused-numbers/:did/resume': {
    ok: [{ as: 'admin', url: `/v1/fraud/paused-numbers/${NUM('+18885550790')}/resume`, body: { reason: 'seller explained the spike' }, status: 200 }],
    invalid: { as: 'admin', url: `/v1/fraud/paused-numbers/${NUM('+18885550790')}/resume`, body: { reason: '' }, field: 'reason' },
  },
  'get /v1/privacy/numbers/:number': {
    ok: [{ as: 'admin', url: `/v1/privacy/numbers/${NUM('+13035550600')}`, status: 200 }],
    invalid: { as: 'admin', url: '/v1/privacy/numbers/abc', field: 'number' },
  },
  'post /v1/privacy/numbers/:number/erase': {
    ok: [{ as: 'admin', url: `/v1/privacy/numbers/${NUM('+13125550180')}/erase`, body: { reason: 'subject request' }, status: 200 }],
    invalid: { as: 'admin', url: `/v1/privacy/numbers/${NUM('+13125550180')}/erase`, body: { reason: 'x' }, field: 'reason' },
  },
  // ---- accounts and keys ------------------------------------------------------------------------------------------------
  'post /v1/accounts': {
    ok: [{ as: 'admin', url: '/v1/accounts', body: { id: 'acct-new', kind: 'buyer', name: 'New buyer' }, status: 201 }],
    invalid: { as: 'admin', url: '/v1/accounts', body: { id: 'bad id!', kind: 'buyer', name: 'x' }, field: 'id' },
  },
  'get /v1/accounts': {
    ok: [{ as: 'admin', url: '/v1/accounts', status: 200 }, { as: 'agent', url: '/v1/accounts?kind=seller', status: 200 }, { as: 'sellerA', url: '/v1/accounts', status: 200 }, { as: 'buyerA', url: '/v1/accounts', status: 200 }],
    invalid: { as: 'admin', url: '/v1/accounts?kind=nobody', field: 'kind' },
    lists: [{ as: 'sellerA', url: '/v1/accounts', mine: '"seller-a"' }, { as: 'buyerA', url: '/v1/accounts', mine: '"buyer-a"' }],
  },
  'get /v1/api-keys': {
    ok: [{ as: 'admin', url: '/v1/api-keys?role=seller', status: 200 }],
    invalid: { as: 'admin', url: '/v1/api-keys?limit=0', field: 'limit' },
  },
  'get /v1/numbers': {
    ok: [{ as: 'admin', url: '/v1/numbers', status: 200 }, { as: 'agent', url: '/v1/numbers?campaignId=cb', status: 200 }, { as: 'sellerA', url: '/v1/numbers', status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/numbers?limit=0', field: 'limit' },
    refused: [{ as: 'sellerA', url: '/v1/numbers?sellerAccountId=seller-b' }],
    lists: [{ as: 'sellerA', url: '/v1/numbers', mine: '"+18885550701"' }, { as: 'sellerB', url: '/v1/numbers', mine: '"+18885550702"' }],
  },
  'get /v1/balances': {
    ok: [{ as: 'admin', url: '/v1/balances', status: 200 }, { as: 'agent', url: '/v1/balances?kind=buyer', status: 200 }, { as: 'sellerA', url: '/v1/balances', status: 200 }, { as: 'buyerA', url: '/v1/balances', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/balances?limit=0', field: 'limit' },
    lists: [{ as: 'sellerA', url: '/v1/balances', mine: '"seller-a"' }, { as: 'buyerA', url: '/v1/balances', mine: '"buyer-a"' }],
  },
  'get /v1/settlements': {
    ok: [{ as: 'admin', url: '/v1/settlements', status: 200 }, { as: 'agent', url: '/v1/settlements', status: 200 }, { as: 'sellerA', url: '/v1/settlements', status: 200 }, { as: 'buyerA', url: '/v1/settlements', status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/settlements?limit=0', field: 'limit' },
    refused: [{ as: 'sellerA', url: '/v1/settlements?accountId=seller-b' }],
    lists: [{ as: 'sellerA', url: '/v1/settlements', mine: '"items"' }, { as: 'buyerA', url: '/v1/settlements', mine: '"items"' }],
  },
  'get /v1/dnc': {
    ok: [{ as: 'admin', url: '/v1/dnc?list=global', status: 200 }, { as: 'agent', url: '/v1/dnc?list=campaign:cb', status: 200 }, { as: 'sellerA', url: '/v1/dnc?list=campaign:ca', status: 200 }],
    invalid: { as: 'admin', url: '/v1/dnc?list=bogus', field: 'list' },
    refused: [{ as: 'sellerA', url: '/v1/dnc?list=campaign:cb' }],
  },
  'get /v1/accounts/:id': {
    ok: [{ as: 'admin', url: '/v1/accounts/seller-b', status: 200 }, { as: 'agent', url: '/v1/accounts/seller-b', status: 200 }, { as: 'sellerA', url: '/v1/accounts/seller-a', status: 200 }, { as: 'buyerA', url: '/v1/accounts/buyer-a', status: 200 }],
    invalid: { as: 'admin', url: '/v1/accounts/bad%20id!', field: 'id' },
    refused: [{ as: 'sellerA', url: '/v1/accounts/seller-b' }, { as: 'buyerA', url: '/v1/accounts/buyer-b' }, { as: 'buyerA', url: '/v1/accounts/seller-a' }],
  },
  'patch /v1/accounts/:id': {
    ok: [{ as: 'admin', url: '/v1/accounts/seller-a', body: { name: 'Seller A, renamed' }, status: 200 }],
    invalid: { as: 'admin', url: '/v1/accounts/seller-a', body: { creditLimitCents: -1 }, field: 'creditLimitCents' },
  },
  'post /v1/api-keys': {
    ok: [{ as: 'admin', url: '/v1/api-keys', body: { role: 'buyer', accountId: 'buyer-a', label: 'guards' }, status: 201 }],
    invalid: { as: 'admin', url: '/v1/api-keys', body: { role: 'seller' }, field: 'accountId' },
  },
  'get /v1/accounts/:id/api-keys': {
    ok: [{ as: 'admin', url: '/v1/accounts/seller-a/api-keys', status: 200 }],
    invalid: { as: 'admin', url: '/v1/accounts/bad%20id!/api-keys', field: 'id' },
  },
  'delete /v1/accounts/:id/api-keys/:keyId': {
    ok: [{ as: 'admin', url: '/v1/accounts/seller-a/api-keys/KEY_DEL', status: 200 }],
    invalid: { as: 'admin', url: '/v1/accounts/seller-a/api-keys/nope', field: 'keyId' },
  },
  'delete /v1/api-keys/:keyId': {
    ok: [{ as: 'admin', url: '/v1/api-keys/KEY_DEL2', status: 200 }],
    invalid: { as: 'admin', url: '/v1/api-keys/nope', field: 'keyId' },
  },
  'get /v1/audit': {
    ok: [{ as: 'admin', url: '/v1/audit?entity=campaign', status: 200 }],
    invalid: { as: 'admin', url: '/v1/audit?entity=nothing', field: 'entity' },
  },
  // ---- campaigns and tracking numbers ------------------------------------------------------------------------------------
  'post /v1/campaigns': {
    ok: [
      { as: 'admin', url: '/v1/campaigns', body: { id: 'ca-admin', sellerAccountId: 'seller-a', name: 'by admin' }, status: 201 },
      { as: 'sellerA', url: '/v1/campaigns', body: { id: 'ca-new', sellerAccountId: 'seller-a', name: 'by seller' }, status: 201 },
    ],
    invalid: { as: 'sellerA', url: '/v1/campaigns', body: { id: 'bad id!', sellerAccountId: 'seller-a', name: 'x' }, field: 'id' },
    refused: [{ as: 'sellerA', url: '/v1/campaigns', body: { id: 'sneaky', sellerAccountId: 'seller-b', name: 'x' } }],
  },
  'get /v1/campaigns': {
    ok: [{ as: 'admin', url: '/v1/campaigns', status: 200 }, { as: 'agent', url: '/v1/campaigns', status: 200 }, { as: 'sellerA', url: '/v1/campaigns', status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/campaigns?limit=5000', field: 'limit' },
    lists: [{ as: 'sellerA', url: '/v1/campaigns', mine: '"ca"' }, { as: 'sellerB', url: '/v1/campaigns', mine: '"cb"' }],
  },
  'get /v1/campaigns/:id': {
    ok: [{ as: 'admin', url: '/v1/campaigns/cb', status: 200 }, { as: 'agent', url: '/v1/campaigns/cb', status: 200 }, { as: 'sellerA', url: '/v1/campaigns/ca', status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/campaigns/bad%20id!', field: 'id' },
    refused: [{ as: 'sellerA', url: '/v1/campaigns/cb' }],
  },
  'patch /v1/campaigns/:id': {
    ok: [{ as: 'admin', url: '/v1/campaigns/ca', body: { floorCents: 10 }, status: 200 }, { as: 'sellerA', url: '/v1/campaigns/ca', body: { name: 'renamed' }, status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/campaigns/ca', body: { floorCents: -1 }, field: 'floorCents' },
    refused: [{ as: 'sellerA', url: '/v1/campaigns/cb', body: { floorCents: 99_999 } }],
  },
  'post /v1/campaigns/:id/numbers': {
    ok: [
      { as: 'admin', url: '/v1/campaigns/ca/numbers', body: { did: '+18885550710' }, status: 201 },
      { as: 'sellerA', url: '/v1/campaigns/ca/numbers', body: { did: '+18885550709' }, status: 201 },
    ],
    invalid: { as: 'sellerA', url: '/v1/campaigns/ca/numbers', body: { did: '12' }, field: 'did' },
    refused: [{ as: 'sellerA', url: '/v1/campaigns/cb/numbers', body: { did: '+18885550711' } }],
  },
  'delete /v1/campaigns/:id/numbers/:did': {
    ok: [
      { as: 'admin', url: `/v1/campaigns/ca/numbers/${NUM('+18885550707')}`, status: 200 },
      { as: 'sellerA', url: `/v1/campaigns/ca/numbers/${NUM('+18885550708')}`, status: 200 },
    ],
    invalid: { as: 'sellerA', url: '/v1/campaigns/ca/numbers/abc', field: 'did' },
    refused: [{ as: 'sellerA', url: `/v1/campaigns/cb/numbers/${NUM('+18885550702')}` }],
  },
  // ---- consent and reports ----------------------------------------------------------------------------------------------
  'post /v1/consents': {
    ok: [
      { as: 'admin', url: '/v1/consents', body: consentBody('ca', '+13125550190'), status: 201 },
      { as: 'sellerA', url: '/v1/consents', body: consentBody('ca', '+13125550191'), status: 201 },
    ],
    invalid: { as: 'sellerA', url: '/v1/consents', body: { ...consentBody('ca', '+13125550192'), consentedAt: 'last week' }, field: 'consentedAt' },
    refused: [{ as: 'sellerA', url: '/v1/consents', body: consentBody('cb', '+13125550193') }],
  },
  'get /v1/consents': {
    ok: [{ as: 'admin', url: '/v1/consents', status: 200 }, { as: 'agent', url: '/v1/consents?campaignId=cb', status: 200 }, { as: 'sellerA', url: '/v1/consents?campaignId=ca', status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/consents?cursor=x', field: 'cursor' },
    refused: [{ as: 'sellerA', url: '/v1/consents?campaignId=cb' }],
    lists: [{ as: 'sellerA', url: '/v1/consents?includeRevoked=true', mine: '"LA"' }, { as: 'sellerB', url: '/v1/consents?includeRevoked=true', mine: '"LB"' }],
  },
  'delete /v1/consents/:id': {
    ok: [{ as: 'admin', url: '/v1/consents/CONSENT_A2', status: 200 }, { as: 'sellerA', url: '/v1/consents/CONSENT_A', status: 200 }],
    invalid: { as: 'sellerA', url: '/v1/consents/abc', field: 'id' },
    refused: [{ as: 'sellerA', url: '/v1/consents/CONSENT_B' }],
  },
  'post /v1/consent-revocations': {
    ok: [
      { as: 'admin', url: '/v1/consent-revocations', body: { number: '+13125550194', campaignId: 'ca', channel: 'phone' }, status: 201 },
      { as: 'sellerA', url: '/v1/consent-revocations', body: { number: '+13125550195' }, status: 201 },
    ],
    invalid: { as: 'sellerA', url: '/v1/consent-revocations', body: { number: '12' }, field: 'number' },
    refused: [{ as: 'sellerA', url: '/v1/consent-revocations', body: { number: '+13125550196', campaignId: 'cb' } }, { as: 'sellerA', url: '/v1/consent-revocations', body: { number: '+13125550196', sellerAccountId: 'seller-b' } }],
  },
  // ---- webhooks (ENDPOINT_A/B: buyers A and B; ENDPOINT_SA/SB: sellers A and B; DELIVERY_*: dead deliveries) ------
  'post /v1/webhooks/endpoints': {
    ok: [
      { as: 'admin', url: '/v1/webhooks/endpoints', body: { accountId: 'buyer-a', url: 'https://hooks.example.com/a1', events: ['call.ended'] }, status: 201 },
      { as: 'sellerA', url: '/v1/webhooks/endpoints', body: { url: 'https://hooks.example.com/sa1', events: ['call.ended'] }, status: 201 },
      { as: 'buyerA', url: '/v1/webhooks/endpoints', body: { url: 'http://hooks.example.com/a2', events: ['call.bridged', 'call.ended'] }, status: 201 },
    ],
    invalid: { as: 'buyerA', url: '/v1/webhooks/endpoints', body: { url: 'ftp://hooks.example.com/a', events: ['call.ended'] }, field: 'url' },
    refused: [
      { as: 'buyerA', url: '/v1/webhooks/endpoints', body: { accountId: 'buyer-b', url: 'https://hooks.example.com/x', events: ['call.ended'] } },
      { as: 'sellerA', url: '/v1/webhooks/endpoints', body: { accountId: 'seller-b', url: 'https://hooks.example.com/x', events: ['call.ended'] } },
    ],
  },
  'get /v1/webhooks/endpoints': {
    ok: [{ as: 'admin', url: '/v1/webhooks/endpoints', status: 200 }, { as: 'agent', url: '/v1/webhooks/endpoints?accountId=buyer-b', status: 200 }, { as: 'sellerA', url: '/v1/webhooks/endpoints', status: 200 }, { as: 'buyerA', url: '/v1/webhooks/endpoints', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/webhooks/endpoints?limit=0', field: 'limit' },
    refused: [{ as: 'buyerA', url: '/v1/webhooks/endpoints?accountId=buyer-b' }, { as: 'sellerA', url: '/v1/webhooks/endpoints?accountId=seller-b' }],
    lists: [
      { as: 'buyerA', url: '/v1/webhooks/endpoints', mine: 'ENDPOINT_A' }, { as: 'buyerB', url: '/v1/webhooks/endpoints', mine: 'ENDPOINT_B' },
      { as: 'sellerA', url: '/v1/webhooks/endpoints', mine: 'ENDPOINT_SA' }, { as: 'sellerB', url: '/v1/webhooks/endpoints', mine: 'ENDPOINT_SB' },
    ],
  },
  'get /v1/webhooks/endpoints/:id': {
    ok: [{ as: 'admin', url: '/v1/webhooks/endpoints/ENDPOINT_B', status: 200 }, { as: 'agent', url: '/v1/webhooks/endpoints/ENDPOINT_B', status: 200 }, { as: 'sellerA', url: '/v1/webhooks/endpoints/ENDPOINT_SA', status: 200 }, { as: 'buyerA', url: '/v1/webhooks/endpoints/ENDPOINT_A', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/webhooks/endpoints/nope', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/webhooks/endpoints/ENDPOINT_B' }, { as: 'sellerA', url: '/v1/webhooks/endpoints/ENDPOINT_SB' }],
  },
  'patch /v1/webhooks/endpoints/:id': {
    ok: [
      { as: 'admin', url: '/v1/webhooks/endpoints/ENDPOINT_B', body: { active: true }, status: 200 },
      { as: 'sellerA', url: '/v1/webhooks/endpoints/ENDPOINT_SA', body: { events: ['call.bridged'] }, status: 200 },
      { as: 'buyerA', url: '/v1/webhooks/endpoints/ENDPOINT_A', body: { url: 'https://hooks.example.com/a3' }, status: 200 },
    ],
    invalid: { as: 'buyerA', url: '/v1/webhooks/endpoints/ENDPOINT_A', body: { events: ['call.started'] }, field: 'events.0' },
    refused: [{ as: 'buyerA', url: '/v1/webhooks/endpoints/ENDPOINT_B', body: { active: false } }, { as: 'sellerA', url: '/v1/webhooks/endpoints/ENDPOINT_SB', body: { active: false } }],
  },
  'delete /v1/webhooks/endpoints/:id': {
    ok: [{ as: 'admin', url: '/v1/webhooks/endpoints/ENDPOINT_B', status: 200 }, { as: 'sellerA', url: '/v1/webhooks/endpoints/ENDPOINT_SA', status: 200 }, { as: 'buyerA', url: '/v1/webhooks/endpoints/ENDPOINT_A', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/webhooks/endpoints/nope', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/webhooks/endpoints/ENDPOINT_B' }, { as: 'sellerA', url: '/v1/webhooks/endpoints/ENDPOINT_SB' }],
  },
  'post /v1/accounts/:id/webhook-secret': {
    ok: [{ as: 'admin', url: '/v1/accounts/buyer-b/webhook-secret', status: 201 }, { as: 'sellerA', url: '/v1/accounts/seller-a/webhook-secret', status: 201 }, { as: 'buyerA', url: '/v1/accounts/buyer-a/webhook-secret', status: 201 }],
    invalid: { as: 'buyerA', url: '/v1/accounts/bad%20id!/webhook-secret', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/accounts/buyer-b/webhook-secret' }, { as: 'sellerA', url: '/v1/accounts/seller-b/webhook-secret' }],
  },
  'get /v1/accounts/:id/webhook-secret': {
    ok: [{ as: 'admin', url: '/v1/accounts/buyer-b/webhook-secret', status: 200 }, { as: 'agent', url: '/v1/accounts/buyer-b/webhook-secret', status: 200 }, { as: 'sellerA', url: '/v1/accounts/seller-a/webhook-secret', status: 200 }, { as: 'buyerA', url: '/v1/accounts/buyer-a/webhook-secret', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/accounts/bad%20id!/webhook-secret', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/accounts/buyer-b/webhook-secret' }, { as: 'sellerA', url: '/v1/accounts/seller-b/webhook-secret' }],
  },
  'get /v1/webhooks/deliveries': {
    ok: [{ as: 'admin', url: '/v1/webhooks/deliveries?status=dead', status: 200 }, { as: 'agent', url: '/v1/webhooks/deliveries', status: 200 }, { as: 'sellerA', url: '/v1/webhooks/deliveries', status: 200 }, { as: 'buyerA', url: '/v1/webhooks/deliveries?status=dead&limit=5', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/webhooks/deliveries?status=lost', field: 'status' },
    refused: [{ as: 'buyerA', url: '/v1/webhooks/deliveries?accountId=buyer-b' }, { as: 'sellerA', url: '/v1/webhooks/deliveries?accountId=seller-b' }],
    lists: [
      { as: 'buyerA', url: '/v1/webhooks/deliveries', mine: 'CALL_A' }, { as: 'buyerB', url: '/v1/webhooks/deliveries', mine: 'CALL_B' },
      { as: 'sellerA', url: '/v1/webhooks/deliveries?status=dead', mine: 'CALL_A' },
    ],
  },
  'get /v1/webhooks/deliveries/:id': {
    ok: [{ as: 'admin', url: '/v1/webhooks/deliveries/DELIVERY_B', status: 200 }, { as: 'agent', url: '/v1/webhooks/deliveries/DELIVERY_B', status: 200 }, { as: 'sellerA', url: '/v1/webhooks/deliveries/DELIVERY_SA', status: 200 }, { as: 'buyerA', url: '/v1/webhooks/deliveries/DELIVERY_A', status: 200 }],
    invalid: { as: 'buyerA', url: '/v1/webhooks/deliveries/abc', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/webhooks/deliveries/DELIVERY_B' }, { as: 'sellerA', url: '/v1/webhooks/deliveries/DELIVERY_A' }],
  },
  'post /v1/webhooks/deliveries/:id/redeliver': {
    ok: [{ as: 'admin', url: '/v1/webhooks/deliveries/DELIVERY_A2/redeliver', status: 202 }, { as: 'sellerA', url: '/v1/webhooks/deliveries/DELIVERY_SA/redeliver', status: 202 }, { as: 'buyerA', url: '/v1/webhooks/deliveries/DELIVERY_A/redeliver', status: 202 }],
    invalid: { as: 'buyerA', url: '/v1/webhooks/deliveries/0/redeliver', field: 'id' },
    refused: [{ as: 'buyerA', url: '/v1/webhooks/deliveries/DELIVERY_B/redeliver' }, { as: 'sellerA', url: '/v1/webhooks/deliveries/DELIVERY_A/redeliver' }],
  },
  // ---- sellers' pings (POST /rtb/ping is outside /v1: test/e2e/rtb-seller.test.ts guards it) ------------------------
  'get /v1/rtb/pings/stats': {
    ok: [
      { as: 'admin', url: '/v1/rtb/pings/stats?sellerAccountId=seller-b', status: 200 }, { as: 'agent', url: '/v1/rtb/pings/stats?sellerAccountId=seller-a', status: 200 },
      { as: 'sellerA', url: '/v1/rtb/pings/stats', status: 200 },
    ],
    invalid: { as: 'sellerA', url: '/v1/rtb/pings/stats?day=yesterday', field: 'day' },
    refused: [{ as: 'sellerA', url: '/v1/rtb/pings/stats?sellerAccountId=seller-b' }],
  },
  'patch /v1/accounts/:id/rtb-ping-limits': {
    ok: [{ as: 'admin', url: '/v1/accounts/seller-a/rtb-ping-limits', body: { perMinute: 100, perDay: null }, status: 200 }],
    invalid: { as: 'admin', url: '/v1/accounts/seller-a/rtb-ping-limits', body: { perMinute: -1 }, field: 'perMinute' },
  },
  'get /v1/reports/calls': {
    ok: [
      { as: 'admin', url: '/v1/reports/calls?RANGE', status: 200 }, { as: 'agent', url: '/v1/reports/calls?groupBy=seller&RANGE', status: 200 },
      { as: 'sellerA', url: '/v1/reports/calls?bucket=hour&RANGE', status: 200 }, { as: 'buyerA', url: '/v1/reports/calls?groupBy=buyer&RANGE', status: 200 },
    ],
    invalid: { as: 'sellerA', url: '/v1/reports/calls?groupBy=planet&RANGE', field: 'groupBy' },
    lists: [
      { as: 'sellerA', url: '/v1/reports/calls?RANGE', mine: '"ca"' }, { as: 'buyerA', url: '/v1/reports/calls?RANGE', mine: '"ca"' },
      { as: 'sellerB', url: '/v1/reports/calls?RANGE', mine: '"cb"' }, { as: 'buyerB', url: '/v1/reports/calls?RANGE', mine: '"cb"' },
    ],
  },
};

let infra: TestInfra;
let node: ExchangeNode;
const keys = {} as Record<KeyName, string>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  infra = await createTestInfra('api_route_guards');
  for (const [id, kind] of [['seller-a', 'seller'], ['seller-b', 'seller'], ['buyer-a', 'buyer'], ['buyer-b', 'buyer']] as const) await seedAccount(infra.pool, { id, kind });
  await seedCampaign(infra.pool, { id: 'ca', sellerId: 'seller-a', dids: ['+18885550701', '+18885550707', '+18885550708', '+18885550790'] });
  await pauseNumber(infra.pool, { callId: 'fraud-call', dnis: '+18885550790', sellerAccountId: 'seller-a', facts: { stage: 'ended', ani: '+13035550699', dnis: '+18885550790', aniValid: true, callsLastMinute: 1, callsLastHour: 1, callsLastDay: 1, sellersLastDay: 1 } }, { score: 90, reasons: ['seller_short_calls'], action: 'pause_number' });
  await seedCampaign(infra.pool, { id: 'cb', sellerId: 'seller-b', dids: ['+18885550702'], payoutCents: 500 });
  // Outbound calls need consent unless exempt (issue 14): this file tests who may ask, so 'ca' is exempt.
  await infra.pool.query("UPDATE campaigns SET outbound_consent_exempt = true WHERE id = 'ca'");
  await seedTarget(infra.pool, { id: 'ta', buyerId: 'buyer-a', campaignId: 'ca', bidCents: 1500 });
  await seedTarget(infra.pool, { id: 'ta-del', buyerId: 'buyer-a', campaignId: 'ca', bidCents: 1000 });
  await seedTarget(infra.pool, { id: 'ta-del2', buyerId: 'buyer-a', campaignId: 'ca', bidCents: 1000 });
  await seedTarget(infra.pool, { id: 'tb', buyerId: 'buyer-b', campaignId: 'cb', bidCents: 1500 });
  // RTB targets (issue 15), inactive so no call pings them: what GET /v1/rtb-stats lists
  await seedTarget(infra.pool, { id: 'rta', buyerId: 'buyer-a', campaignId: 'ca', bidCents: 0, rtbUrl: 'http://127.0.0.1:9/rtb', active: false });
  await seedTarget(infra.pool, { id: 'rtbb', buyerId: 'buyer-b', campaignId: 'cb', bidCents: 0, rtbUrl: 'http://127.0.0.1:9/rtb', active: false });
  ids.CALL_A = await insertEndedCall(infra.pool, { campaignId: 'ca', sellerId: 'seller-a', ani: '+13035550600', billableSec: 90, targetId: 'ta', buyerId: 'buyer-a', priceCents: 1500 });
  ids.CALL_B = await insertEndedCall(infra.pool, { campaignId: 'cb', sellerId: 'seller-b', ani: '+13035550601', billableSec: 90, targetId: 'tb', buyerId: 'buyer-b', priceCents: 1500 });
  await billEndedCalls(infra.pool, [ids.CALL_A, ids.CALL_B]);
  const consent = (campaignId: string, number: string, leadId: string) => recordConsent(infra.pool, infra.redis, { campaignId, number, leadId, source: 'form', consentedAt: new Date('2026-11-01T00:00:00Z') });
  ids.CONSENT_A = await consent('ca', '+13035550602', 'LA');
  ids.CONSENT_A2 = await consent('ca', '+13035550603', 'LA2');
  ids.CONSENT_B = await consent('cb', '+13035550604', 'LB');
  await addDncNumbers(infra.pool, infra.redis, 'campaign:ca', ['+13125550158', '+13125550159'], 'seed');
  await addDncNumbers(infra.pool, infra.redis, 'campaign:cb', ['+13125550160'], 'seed');
  await blockNumber(infra.pool, infra.redis, '+13125550170', 'seed');
  await blockNumber(infra.pool, infra.redis, '+13125550172', 'seed');
  for (const [id, listId] of [[IMPORT_A, 'campaign:ca'], [IMPORT_B, 'campaign:cb']]) {
    await infra.redis.set(`dnc:import:${id}`, JSON.stringify({ id, listId, source: 'seed', status: 'done', lines: 1, accepted: 1, written: 1, rejected: 0, rejectedSamples: [], startedAt: new Date().toISOString() }));
  }
  await failOneBillingJob('gone');
  await seedWebhooks();
  // Rate limits are not what this file tests; the billing and fraud workers stay off so the failed job stays failed
  // (and the webhook worker, so redelivered deliveries stay as the API left them).
  // Outbound calls are screened for calling hours: the node's clock is a Wednesday, 11:00 in Chicago.
  node = await startTestNode(
    infra,
    { API_RATE_LIMIT_PER_SECOND: '100000', API_AUTH_FAILURES_PER_MINUTE: '0', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', WEBHOOK_WORKER_ENABLED: 'false' },
    { clock: () => new Date('2026-11-18T17:00:00Z') },
  );
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.sellerA = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-a' })).key;
  keys.sellerB = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-b' })).key;
  keys.buyerA = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-a' })).key;
  keys.buyerB = (await createApiKey(infra.pool, { role: 'buyer', accountId: 'buyer-b' })).key;
  ids.KEY_DEL = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller-a', label: 'to revoke' })).id;
  ids.KEY_DEL2 = (await createApiKey(infra.pool, { role: 'agent', label: 'to revoke' })).id;
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

/** An endpoint and a secret per account, and dead deliveries to be read and redelivered. */
async function seedWebhooks(): Promise<void> {
  const box = SecretBox.fromKey(undefined);
  const endpoints: Record<string, string> = { ENDPOINT_A: 'buyer-a', ENDPOINT_B: 'buyer-b', ENDPOINT_SA: 'seller-a', ENDPOINT_SB: 'seller-b' };
  for (const [name, accountId] of Object.entries(endpoints)) {
    ids[name] = (await createEndpoint(infra.pool, { accountId, url: `https://hooks.example.com/${accountId}`, events: ['call.ended'] })).id;
    await rotateSecret(infra.pool, box, accountId);
  }
  const deliveries: Array<[string, string, string, string]> = [['DELIVERY_A', 'ENDPOINT_A', 'CALL_A', 'x'], ['DELIVERY_A2', 'ENDPOINT_A', 'CALL_A', 'y'], ['DELIVERY_SA', 'ENDPOINT_SA', 'CALL_A', 'x'], ['DELIVERY_B', 'ENDPOINT_B', 'CALL_B', 'x']];
  for (const [name, endpoint, call, event] of deliveries) {
    const [id] = await insertDeliveries(infra.pool, [{ eventId: `evt_${event}_${ids[call]}`, eventType: 'call.ended', callId: ids[call]!, accountId: endpoints[endpoint]!, endpointId: ids[endpoint]!, url: 'https://hooks.example.com/', body: JSON.stringify({ type: 'call.ended', data: { call: { callId: ids[call] } } }) }]);
    await infra.pool.query("UPDATE webhook_deliveries SET status = 'dead', attempts = 3, last_http_status = 503, last_error = 'HTTP 503' WHERE id = $1", [id]);
    ids[name] = id!;
  }
}

/** A billing job for a call that never ended, allowed one attempt: the real worker fails it for good. */
async function failOneBillingJob(jobId: string): Promise<void> {
  const settings = { redisUrl: TEST_REDIS_URL, redisPrefix: infra.prefix };
  const queue = billingQueue(settings);
  const worker = new BillingWorker(infra.pool, infra.redis, silentLogger(), settings);
  try {
    await queue.add('call-ended', { callId: jobId }, { jobId, attempts: 1 });
    worker.start();
    await eventually(async () => (await queue.getJob(jobId))?.isFailed(), 'the billing job to fail for good', 20_000);
  } finally {
    await worker.stop();
    await queue.close();
  }
}

const RANGE = `from=${encodeURIComponent(new Date(Date.now() - 7 * 86_400_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`;
const fill = (s: string): string => s.replace(/\b(CALL_A|CALL_B|CONSENT_A2|CONSENT_A|CONSENT_B|KEY_DEL2|KEY_DEL|ENDPOINT_SA|ENDPOINT_SB|ENDPOINT_A|ENDPOINT_B|DELIVERY_A2|DELIVERY_A|DELIVERY_SA|DELIVERY_B)\b/g, (m) => ids[m] ?? m).replace('RANGE', RANGE);

/** Every answer the routes gave here, checked at the end against what /openapi.json documents for it. */
const answers: Array<{ route: string; url: string; status: number; contentType: string; json: unknown }> = [];

async function send(route: string, p: Omit<Probe, 'as'>, key: string | undefined) {
  const method = methodOf(route);
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  let body: string | undefined;
  if (p.text !== undefined) {
    headers['content-type'] = 'text/plain';
    body = p.text;
  } else if (p.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = fill(JSON.stringify(p.body));
  }
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${fill(p.url)}`, { method: method.toUpperCase(), headers, body });
  const text = await r.text();
  let json: { error?: { code?: string; message?: string; field?: string } } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    /* CSV and the like */
  }
  answers.push({ route, url: p.url, status: r.status, contentType: (r.headers.get('content-type') ?? '').split(';')[0]!, json });
  return { status: r.status, text, json };
}

const routeKey = (d: { method: string; path: string }): string => `${d.method} ${d.path}`;
const v1Docs = apiRouteDocs.filter((d) => d.path.startsWith('/v1/'));
const docOf = (route: string) => v1Docs.find((d) => routeKey(d) === route)!;
const methodOf = (route: string): string => route.split(' ')[0]!;

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** The (method, path) of every route the app serves, found by walking its routers. */
function servedRoutes(stack: Layer[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const [m, on] of Object.entries(layer.route.methods)) if (on) out.push(`${m} ${layer.route.path}`);
    } else if (layer.handle?.stack) {
      out.push(...servedRoutes(layer.handle.stack));
    }
  }
  return out;
}

/** Everything the refused requests could have changed, as one string: compared before and after them. */
async function stateOfEverything(): Promise<string> {
  const q = async (sql: string) => JSON.stringify((await infra.pool.query(sql)).rows);
  const members = async (key: string) => JSON.stringify((await infra.redis.smembers(key)).sort());
  const scored = async (key: string) => JSON.stringify(await infra.redis.zrange(key, '0', '-1', 'WITHSCORES'));
  return [
    await q('SELECT id, name, active, balance_cents, credit_limit_cents FROM accounts ORDER BY id'),
    await q('SELECT * FROM campaigns ORDER BY id'),
    await q('SELECT did, campaign_id, active FROM tracking_numbers ORDER BY did'),
    await q('SELECT * FROM buyer_targets ORDER BY id'),
    await q('SELECT id, campaign_id, number, revoked_at FROM consent_records ORDER BY id'),
    await q('SELECT list_id, number FROM dnc_entries ORDER BY list_id, number'),
    await q('SELECT number, reason FROM blocked_numbers ORDER BY number'),
    await q('SELECT id, role, account_id, revoked_at FROM api_keys ORDER BY id'),
    await q('SELECT count(*)::int AS n FROM ledger_transactions'),
    await q('SELECT count(*)::int AS n FROM settlements'),
    await q('SELECT count(*)::int AS n FROM calls'),
    await q('SELECT count(*)::int AS n FROM privacy_erasures'),
    await q('SELECT id, seller_account_id, number FROM consent_revocations ORDER BY id'),
    await q('SELECT * FROM webhook_endpoints ORDER BY id'),
    await q('SELECT account_id, secret, rotated_at FROM webhook_secrets ORDER BY account_id'),
    await q('SELECT id, status, attempts FROM webhook_deliveries ORDER BY id'),
    ...(await Promise.all(['dnc:global', 'dnc:campaign:ca', 'dnc:campaign:cb', 'dnc:seller:seller-a', 'dnc:seller:seller-b', 'blocked'].map(members))),
    ...(await Promise.all([complianceKeys.consent('ca'), complianceKeys.consent('cb')].map(scored))),
  ].join('\n');
}

describe('the route table', () => {
  it('serves exactly the documented /v1 routes, and names each of them here with its cases', () => {
    const served = [...new Set(servedRoutes((node.api as unknown as { router: { stack: Layer[] } }).router.stack).filter((r) => r.split(' ')[1]!.startsWith('/v1/')))].sort();
    const documented = [...new Set(v1Docs.map(routeKey))].sort();
    expect(served).toEqual(documented);
    expect(Object.keys(CASES).sort()).toEqual(documented);
    expect(documented.length).toBeGreaterThan(40);
  });

  it('has for each route a success for every role it lists, a bad input if it takes any, and cross-account cases for sellers and buyers', () => {
    const gaps: string[] = [];
    for (const d of v1Docs) {
      const route = routeKey(d);
      const c = CASES[route];
      if (!c) continue; // reported by the test above
      const okRoles = [...new Set(c.ok.map((p) => ROLE_OF[p.as]))].sort();
      if (JSON.stringify(okRoles) !== JSON.stringify([...d.roles].sort())) gaps.push(`${route}: successes for ${okRoles.join(',')}, documented roles ${[...d.roles].sort().join(',')}`);
      const takesInput = Boolean(d.params || d.query || d.body || d.textBody);
      if (takesInput && c.invalid === 'takes no input') gaps.push(`${route}: takes input but has no bad-input case`);
      if (!takesInput && c.invalid !== 'takes no input') gaps.push(`${route}: documents no input but has a bad-input case`);
      for (const role of ['seller', 'buyer'] as const) {
        if (!d.roles.includes(role)) continue;
        const probes = [...(c.refused ?? []), ...(c.lists ?? [])].filter((p) => ROLE_OF[p.as] === role);
        if (probes.length === 0) gaps.push(`${route}: no cross-account case for a ${role}`);
      }
      if (!d.roles.includes('seller') && !d.roles.includes('buyer') && (c.refused || c.lists)) gaps.push(`${route}: cross-account cases for a route no seller or buyer may call`);
    }
    expect(gaps).toEqual([]);
  });
});

describe('refusals', () => {
  let before = '';
  beforeAll(async () => {
    before = await stateOfEverything();
  });

  it('answers 401 with the JSON error shape to a request without a key, or with an unknown key, on every route', async () => {
    for (const [route, c] of Object.entries(CASES)) {
      for (const key of [undefined, 'cx_not-a-key']) {
        const r = await send(route, c.ok[0]!, key);
        expect([route, key ?? 'no key', r.status, r.json.error?.code, typeof r.json.error?.message]).toEqual([route, key ?? 'no key', 401, 'unauthenticated', 'string']);
      }
      // The key is checked before the body is read: malformed JSON without a key is still a 401.
      if (docOf(route).body) {
        const r = await fetch(`http://127.0.0.1:${node.httpPort}${fill(c.ok[0]!.url)}`, { method: methodOf(route).toUpperCase(), headers: { 'content-type': 'application/json' }, body: '{"not json' });
        expect([route, 'malformed body', r.status]).toEqual([route, 'malformed body', 401]);
      }
    }
  });

  it('refuses every role a route does not list with 403 forbidden, even for a request that would succeed', async () => {
    let refusals = 0;
    for (const [route, c] of Object.entries(CASES)) {
      const roles = docOf(route).roles;
      for (const role of (['admin', 'agent', 'seller', 'buyer'] as Role[]).filter((r) => !roles.includes(r))) {
        const r = await send(route, c.ok[0]!, keys[KEY_OF_ROLE[role]]);
        expect([route, role, r.status, r.json.error?.code, typeof r.json.error?.message]).toEqual([route, role, 403, 'forbidden', 'string']);
        refusals += 1;
      }
    }
    expect(refusals).toBeGreaterThan(50);
  });

  it('refuses bad input with 400 validation_failed naming the field, on every route that takes input', async () => {
    for (const [route, c] of Object.entries(CASES)) {
      if (c.invalid === 'takes no input') continue;
      const r = await send(route, c.invalid, keys[c.invalid.as]);
      expect([route, r.status, r.json.error?.code, r.json.error?.field]).toEqual([route, 400, 'validation_failed', c.invalid.field]);
      expect([route, typeof r.json.error?.message]).toEqual([route, 'string']);
    }
  });

  it('answers malformed JSON with 400 invalid_json on every route that takes a JSON body', async () => {
    for (const [route, c] of Object.entries(CASES)) {
      if (!docOf(route).body) continue;
      const r = await fetch(`http://127.0.0.1:${node.httpPort}${fill(c.ok[0]!.url)}`, {
        method: methodOf(route).toUpperCase(),
        headers: { authorization: `Bearer ${keys[c.ok[0]!.as]}`, 'content-type': 'application/json' },
        body: '{"not json',
      });
      expect([route, r.status, ((await r.json()) as { error?: { code?: string } }).error?.code]).toEqual([route, 400, 'invalid_json']);
    }
  });

  it("refuses a seller's or buyer's request naming another account's resource with 403 or 404", async () => {
    for (const [route, c] of Object.entries(CASES)) {
      for (const p of c.refused ?? []) {
        const r = await send(route, p, keys[p.as]);
        expect([route, p.as, [403, 404].includes(r.status) ? 'refused' : `${r.status} ${r.text.slice(0, 200)}`]).toEqual([route, p.as, 'refused']);
        expect([route, typeof r.json.error?.code]).toEqual([route, 'string']);
      }
    }
  });

  it("shows an account its own rows in lists and none of the other account's", async () => {
    const markers = {
      A: [ids.CALL_A!, 'seller-a', 'buyer-a', '"ca"', '"ta"', '"LA"'],
      B: [ids.CALL_B!, 'seller-b', 'buyer-b', '"cb"', '"tb"', '"LB"'],
    };
    for (const [route, c] of Object.entries(CASES)) {
      for (const p of c.lists ?? []) {
        const r = await send(route, p, keys[p.as]);
        expect([route, p.as, p.url, r.status]).toEqual([route, p.as, p.url, 200]);
        expect([route, p.as, p.url, r.text.includes(fill(p.mine)) ? 'sees its own' : r.text.slice(0, 300)]).toEqual([route, p.as, p.url, 'sees its own']);
        const theirs = p.as.endsWith('A') ? markers.B : markers.A;
        for (const m of theirs) expect([route, p.as, p.url, r.text.includes(m) ? `sees ${m}` : 'clean']).toEqual([route, p.as, p.url, 'clean']);
      }
    }
  });

  it('changed nothing with any of the refused requests', async () => {
    expect(await stateOfEverything()).toBe(before);
  });
});

describe('successes', () => {
  it('a valid request by each role a route lists succeeds', async () => {
    for (const [route, c] of Object.entries(CASES)) {
      for (const p of c.ok) {
        const r = await send(route, p, keys[p.as]);
        expect([route, p.as, r.status === p.status ? 'ok' : `${r.status} ${r.text.slice(0, 300)}`]).toEqual([route, p.as, 'ok']);
      }
    }
  });
});

/** Routes whose success body is not documented yet (their errors are checked all the same). Nothing may join this list. */
const SUCCESS_UNDOCUMENTED: string[] = [];

describe('/openapi.json', () => {
  it('documents every answer given above: its status, and its body against the documented schema (errors included)', async () => {
    const doc = (await (await fetch(`http://127.0.0.1:${node.httpPort}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };
    const problems: string[] = [];
    const checked = new Set<string>();
    for (const a of answers) {
      const [method, path] = a.route.split(' ') as [string, string];
      const responses = doc.paths[path.replace(/:([A-Za-z]+)/g, '{$1}')]?.[method]?.responses;
      const documented = responses?.[String(a.status)];
      if (!documented) {
        problems.push(`${a.route} ${a.url}: status ${a.status} is not documented`);
        continue;
      }
      const schema = documented.content?.[a.contentType]?.schema;
      if (schema === undefined && a.status < 400 && !documented.content && SUCCESS_UNDOCUMENTED.includes(a.route)) continue;
      if (schema === undefined) {
        problems.push(`${a.route} ${a.url}: ${a.status} answered ${a.contentType || 'no content type'}, documented ${Object.keys(documented.content ?? {}).join(', ') || 'no body'}`);
        continue;
      }
      if (a.contentType === 'application/json') for (const e of schemaErrors(a.json, schema, doc as unknown as Record<string, unknown>)) problems.push(`${a.route} ${a.url} ${a.status}: ${e}`);
      checked.add(`${a.route} ${a.status >= 400 ? 'error' : 'success'}`);
    }
    expect(problems.slice(0, 30)).toEqual([]);
    // every route was checked with a success and with an error
    for (const route of Object.keys(CASES)) {
      expect([route, checked.has(`${route} success`) || SUCCESS_UNDOCUMENTED.includes(route), checked.has(`${route} error`)]).toEqual([route, true, true]);
    }
  });
});
