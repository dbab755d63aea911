/**
 * DNC lists over HTTP on a real node: one number added is screened out on the next call; a bulk CSV import
 * reports its bad lines by number and puts the good ones where screening reads them; who may touch which list.
 */
import { randomUUID } from 'node:crypto';
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { complianceKeys } from '../../app/cache/compliance-keys';
import { createTestInfra, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';

let infra: TestInfra;
let node: ExchangeNode;
const keys: Record<string, string> = {};
const DID = '+18885550480';

beforeAll(async () => {
  infra = await createTestInfra('api_dnc');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'other-seller', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'buyer', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: [DID] });
  await seedCampaign(infra.pool, { id: 'other', sellerId: 'other-seller', dids: ['+18885550481'] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'buyer', campaignId: 'c', bidCents: 1000 });
  node = await startTestNode(infra, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  keys.admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  keys.agent = (await createApiKey(infra.pool, { role: 'agent' })).key;
  keys.seller = (await createApiKey(infra.pool, { role: 'seller', accountId: 'seller' })).key;
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

const req = async (method: string, path: string, key?: string, body?: unknown, type = 'application/json') => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': type } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as any };
};

const decide = (ani: string) =>
  node.router.decide(randomUUID(), { ani, dnis: DID, direction: 'inbound', switchName: 'test', switchCallId: randomUUID() }, new Date());

it('a number added to the global list is screened out on its next call, and removing it lets it through', async () => {
  const ani = '+12025550140';
  expect((await decide(ani)).outcome).toBe('route');
  expect(await req('POST', '/v1/dnc', keys.admin, { list: 'global', number: '(202) 555-0140' })).toEqual({ status: 201, json: { list: 'global', number: ani } });
  const blocked = await decide(ani);
  expect(blocked.outcome).toBe('reject');
  expect(blocked.trace.screening?.reasons).toContain('dnc_global');
  expect((await req('GET', `/v1/dnc/global/${encodeURIComponent(ani)}`, keys.agent)).json).toEqual({ list: 'global', number: ani, listed: true });
  expect((await req('DELETE', `/v1/dnc/global/${encodeURIComponent(ani)}`, keys.admin)).status).toBe(200);
  expect((await decide(ani)).outcome).toBe('route');
});

it('a CSV import streams in, reports bad lines by number, and puts every good number where screening reads it', async () => {
  const lines = ['phone_number,name'];
  for (let i = 0; i < 3000; i++) lines.push(`"+1303555${String(i).padStart(4, '0')}",Person ${i}`);
  lines.splice(101, 0, 'not-a-number,x'); // line 102
  lines.splice(2001, 0, '+1 (011) 555-0100,x'); // line 2002: area code 011 does not exist
  lines.push('', '3035550001'); // a blank line, and a repeat in another spelling
  const id = randomUUID();
  const r = await req('POST', `/v1/dnc/imports?list=campaign:c&source=crm-export&id=${id}`, keys.seller, lines.join('\n'), 'text/csv');
  expect(r.status).toBe(201);
  expect(r.json).toMatchObject({ id, listId: 'campaign:c', status: 'done', lines: 3005, accepted: 3001, rejected: 2 });
  expect(r.json.rejectedSamples).toEqual([
    { line: 102, text: 'not-a-number', reason: expect.stringMatching(/^malformed/) },
    { line: 2002, text: '+1 (011) 555-0100', reason: expect.stringMatching(/^invalid: area code 011/) },
  ]);
  expect((await infra.pool.query("SELECT count(*)::int AS n FROM dnc_entries WHERE list_id = 'campaign:c'")).rows[0].n).toBe(3000);
  expect(await infra.redis.scard(complianceKeys.dncCampaign('c'))).toBe(3000);
  expect((await req('GET', `/v1/dnc/imports/${id}`, keys.seller)).json).toMatchObject({ id, status: 'done', accepted: 3001 });
  const screened = await decide('+13035552999');
  expect(screened.trace.screening?.reasons).toContain('dnc_campaign');
});

it('importing a list again adds only the new numbers, keeps the ones held as they were, and says how many lines it took', async () => {
  // 2,500 already listed by the import above (source crm-export) and 1,000 new ones, in one upload.
  const lines: string[] = [];
  for (let i = 500; i < 4000; i++) lines.push(`+1303555${String(i).padStart(4, '0')}`);
  const r = await req('POST', '/v1/dnc/imports?list=campaign:c&source=monthly-refresh', keys.seller, lines.join('\n'), 'text/plain');
  expect(r.status).toBe(201);
  expect(r.json).toMatchObject({ status: 'done', lines: 3500, accepted: 3500, rejected: 0 });
  const bySource = (await infra.pool.query("SELECT source, count(*)::int AS n FROM dnc_entries WHERE list_id = 'campaign:c' GROUP BY source ORDER BY source")).rows;
  expect(bySource).toEqual([{ source: 'crm-export', n: 3000 }, { source: 'monthly-refresh', n: 1000 }]);
  expect(await infra.redis.scard(complianceKeys.dncCampaign('c'))).toBe(4000);
  expect((await decide('+13035553999')).trace.screening?.reasons).toContain('dnc_campaign');
});

it('who may touch which list, and bad input', async () => {
  expect((await req('POST', '/v1/dnc', keys.seller, { list: 'global', number: '+12025550141' })).status).toBe(403);
  expect((await req('POST', '/v1/dnc', keys.seller, { list: 'campaign:other', number: '+12025550141' })).status).toBe(404);
  expect((await req('POST', '/v1/dnc', keys.agent, { list: 'global', number: '+12025550141' })).status).toBe(403);
  expect((await req('POST', '/v1/dnc', undefined, { list: 'global', number: '+12025550141' })).status).toBe(401);
  expect((await req('POST', '/v1/dnc', keys.admin, { list: 'everyone', number: '+12025550141' })).json.error).toMatchObject({ code: 'validation_failed', field: 'list' });
  expect((await req('POST', '/v1/dnc', keys.admin, { list: 'global', number: '12345' })).json.error).toMatchObject({ field: 'number' });
  expect((await req('POST', '/v1/dnc/imports?list=global', keys.admin, '{"a":1}')).status).toBe(415);
  expect((await req('POST', '/v1/dnc/imports?list=global&id=nope', keys.admin, '+12025550141', 'text/plain')).json.error).toMatchObject({ field: 'id' });
  expect((await req('POST', '/v1/dnc/imports?list=global', keys.seller, '+12025550141', 'text/plain')).status).toBe(403);
  expect((await req('GET', `/v1/dnc/imports/${randomUUID()}`, keys.admin)).status).toBe(404);
});

it('the database itself refuses a DNC number that is not E.164, whoever writes it', async () => {
  const insert = (n: string) => infra.pool.query("INSERT INTO dnc_entries (list_id, number, source) VALUES ('global', $1, 'sql')", [n]);
  for (const bad of ['+0123456', '+123456', '+1234567890123456', '+12345a7', '1234567', '++1234567', '+1234 567']) {
    await expect(insert(bad)).rejects.toMatchObject({ code: '23514', constraint: 'dnc_entries_number_check' });
  }
  for (const good of ['+1234567', '+123456789012345']) await expect(insert(good)).resolves.toBeDefined();
});
