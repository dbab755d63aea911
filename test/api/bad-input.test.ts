/**
 * Bad input answers 4xx naming what is wrong, never 500, and is never logged as an error (issue 13, findings 7
 * and 10): bodies too large or in an unknown charset or encoding, malformed JSON, integers past their column's
 * range, dates outside 1970..9999 or not ISO 8601, forged cursors, NUL bytes and lone surrogates in text, bad
 * %-escapes in the path. Each case goes through HTTP to a started node.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { captureLogger, ERROR, startLoggedTestNode, WARN } from '../support/log-capture';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';

let infra: TestInfra;
let node: ExchangeNode;
let admin: string;
const { logger, lines } = captureLogger();

beforeAll(async () => {
  infra = await createTestInfra('api_bad_input');
  node = await startLoggedTestNode(infra, logger, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', API_RATE_LIMIT_PER_SECOND: '0' });
  admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: ['+18885550100'] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'b', campaignId: 'c', bidCents: 1500 });
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

interface Case {
  name: string;
  method?: string;
  path: string;
  /** a JSON body: an object is serialised, a string is sent as it is */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  code?: string;
  field?: string;
}

const FORGED = 'WyIyMDIwIiwieCJd'; // base64url of ["2020","x"]
const OLD = encodeURIComponent('-200000-01-01T00:00:00Z');
const INJECTED = encodeURIComponent("' OR '1'='1");
const NUL = 'a\u0000b';
const LONE = '{"name":"x\\ud800y"}'; // JSON.parse makes a lone surrogate of it

const cases: Case[] = [
  // body-parser
  { name: 'a 10 MB body', method: 'POST', path: '/v1/accounts', body: JSON.stringify({ id: 'big', kind: 'buyer', name: 'x'.repeat(10 * 1024 * 1024) }), status: 413, code: 'payload_too_large' },
  { name: 'an unknown charset', method: 'POST', path: '/v1/accounts', body: '{}', headers: { 'content-type': 'application/json; charset=x-bogus' }, status: 415, code: 'unsupported_charset' },
  { name: 'a bogus content-encoding', method: 'POST', path: '/v1/accounts', body: '{}', headers: { 'content-encoding': 'bogus' }, status: 415, code: 'unsupported_encoding' },
  { name: 'malformed JSON', method: 'POST', path: '/v1/accounts', body: '{"id":', status: 400, code: 'invalid_json' },
  // integers past the int4 columns, money past its bound
  ...['priority', 'weight', 'convertOnSeconds', 'capConcurrency', 'capHourly', 'capDaily', 'capMonthly'].map((f): Case => ({ name: `${f} 2147483648`, method: 'PATCH', path: '/v1/targets/t', body: { [f]: 2147483648 }, status: 400, field: f })),
  { name: 'creditLimitCents past bigint', method: 'PATCH', path: '/v1/accounts/b', body: { creditLimitCents: 1e20 }, status: 400, field: 'creditLimitCents' },
  { name: 'floorCents past bigint', method: 'PATCH', path: '/v1/campaigns/c', body: { floorCents: 9.3e18 }, status: 400, field: 'floorCents' },
  { name: 'an adjustment past bigint', method: 'POST', path: '/v1/adjustments', body: { idempotencyKey: 'adj-00001', memo: 'm', postings: [{ accountId: 'b', amountCents: 1e19 }, { accountId: 's', amountCents: -1e19 }] }, status: 400 },
  { name: 'a ledger cursor past bigint', path: '/v1/accounts/b/ledger?before=100000000000000000000', status: 400, field: 'before' },
  // dates outside the database's range, and not ISO 8601
  { name: 'calls from year -200000', path: `/v1/calls?from=${OLD}`, status: 400, field: 'from' },
  { name: 'ledger from year -200000', path: `/v1/accounts/b/ledger?from=${OLD}`, status: 400, field: 'from' },
  { name: 'invoice from year -200000', path: `/v1/accounts/b/invoice?from=${OLD}&to=2026-01-01`, status: 400, field: 'from' },
  { name: 'a settlement from year -200000', method: 'POST', path: '/v1/settlements', body: { accountId: 'b', from: '-200000-01-01T00:00:00Z', to: '2026-01-01' }, status: 400, field: 'from' },
  { name: 'a consent in year -200000', method: 'POST', path: '/v1/consents', body: { campaignId: 'c', number: '+18135550100', leadId: 'l', source: 's', consentedAt: '-200000-01-01T00:00:00Z' }, status: 400, field: 'consentedAt' },
  // Found by the fuzz test: with consentedAt not a date, the expiry check compared a string's getTime (500).
  { name: 'a consent whose consentedAt is not a date but whose expiresAt is', method: 'POST', path: '/v1/consents', body: { campaignId: 'c', number: '+18135550100', leadId: 'l', source: 's', consentedAt: 'null', expiresAt: '2030-05-12T14:17:53.980Z' }, status: 400, field: 'consentedAt' },
  { name: 'a report from year 275760', path: `/v1/reports/calls?from=${encodeURIComponent('+275760-09-13T00:00:00Z')}&to=2026-01-01`, status: 400, field: 'from' },
  { name: "calls from ' OR '1'='1", path: `/v1/calls?from=${INJECTED}`, status: 400, field: 'from' },
  { name: 'calls to 2001 (not a date)', path: '/v1/calls?to=2001', status: 400, field: 'to' },
  // forged cursors
  { name: 'a forged calls cursor', path: `/v1/calls?cursor=${FORGED}`, status: 400, field: 'cursor' },
  { name: 'a forged blocks cursor', path: `/v1/fraud/blocks?cursor=${FORGED}`, status: 400, field: 'cursor' },
  { name: 'a forged campaigns cursor', path: `/v1/campaigns?cursor=${FORGED}`, status: 400, field: 'cursor' },
  // NUL bytes and lone surrogates
  { name: 'NUL in an account name', method: 'PATCH', path: '/v1/accounts/b', body: { name: NUL }, status: 400, field: 'name' },
  { name: 'NUL in a campaign name', method: 'PATCH', path: '/v1/campaigns/c', body: { name: NUL }, status: 400, field: 'name' },
  { name: 'NUL in a key label', method: 'POST', path: '/v1/api-keys', body: { role: 'admin', label: NUL }, status: 400, field: 'label' },
  { name: 'NUL in a block reason', method: 'POST', path: '/v1/fraud/blocks', body: { number: '+18135550100', reason: NUL }, status: 400, field: 'reason' },
  { name: 'NUL in a refund call id', method: 'POST', path: '/v1/refunds', body: { callId: NUL, reason: 'r' }, status: 400, field: 'callId' },
  { name: 'NUL in a path parameter', path: '/v1/calls/a%00b', status: 400, field: 'id' },
  { name: 'NUL in a query', path: '/v1/calls?campaignId=a%00b', status: 400, field: 'campaignId' },
  { name: 'a lone surrogate in a target name', method: 'PATCH', path: '/v1/targets/t', body: LONE, status: 400, field: 'name' },
  // the path itself
  { name: 'a bad %-escape in the path', path: '/v1/calls/%E0%A4%A', status: 400, code: 'bad_path' },
  // the destination rule (finding 9)
  { name: 'a destination with a FreeSWITCH variable block', method: 'PATCH', path: '/v1/targets/t', body: { destination: 'sip:{origination_caller_id_number=+1900}x@h' }, status: 400, field: 'destination' },
];

it.each(cases)('$name: $status', async (c) => {
  const body = c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${c.path}`, {
    method: c.method ?? 'GET',
    headers: { authorization: `Bearer ${admin}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers },
    body,
  });
  const json = (await r.json()) as { error?: { code: string; message: string; field?: string } };
  expect({ status: r.status, error: json.error }).toMatchObject({ status: c.status, error: { ...(c.code ? { code: c.code } : {}), ...(c.field ? { field: c.field } : {}) } });
  expect(json.error?.message).toEqual(expect.any(String));
});

it('money up to its bound is stored and reads back: a credit limit past the int4 range', async () => {
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${node.httpPort}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect((await call('PATCH', '/v1/accounts/b', { creditLimitCents: 3_000_000_000 })).status).toBe(200);
  const r = await call('GET', '/v1/accounts/b');
  expect(r.status).toBe(200);
  expect(await r.json()).toMatchObject({ id: 'b', creditLimitCents: 3_000_000_000 });
});

it('logs none of them as an error, and no refused payload', () => {
  expect(lines.filter((l) => l.level >= ERROR)).toEqual([]);
  const warned = lines.filter((l) => l.level === WARN && l.msg === 'API request refused');
  expect(warned.length).toBeGreaterThanOrEqual(4);
  expect(JSON.stringify(warned)).not.toContain('xxxxxxxx');
});
