/**
 * The purchased lists decide in the screening script too: a call the lists refuse must take no buyer's cap slot
 * or fund hold (the script reserves in the same round trip; a refused call never releases what it took). Decisions
 * made by the router of a real node on real Redis; the reservation read back from the cap ledger.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ExchangeNode } from '../../app/exchange-node';
import type { CallInfo } from '../../app/switch/port';
import { importRegistryCopy } from '../../app/store/registry-copies';
import { addLitigators, recordRndResults } from '../../app/store/lists-repo';
import { recordConsent } from '../../app/store/compliance-repo';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { startTestNode } from '../support/node';

let infra: TestInfra;
let node: ExchangeNode;
const NOW = new Date('2026-11-24T16:00:00Z'); // 10:00 in Chicago

beforeAll(async () => {
  infra = await createTestInfra('lists_gate');
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: ['+18885550600'], requireConsent: true });
  await seedTarget(infra.pool, { id: 't', buyerId: 'b', campaignId: 'c', bidCents: 1000, capConcurrency: 5 });
  await seedCampaign(infra.pool, { id: 'shield', sellerId: 's', dids: ['+18885550601'] });
  await infra.pool.query("UPDATE campaigns SET block_litigators = true WHERE id = 'shield'");
  await seedTarget(infra.pool, { id: 'ts', buyerId: 'b', campaignId: 'shield', bidCents: 1000, capConcurrency: 5 });
  node = await startTestNode(infra, { DNC_REGISTRY_REQUIRED: 'true', BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  const deps = { pool: infra.pool, redis: infra.redis, log: silentLogger() };
  await importRegistryCopy(deps, { kind: 'us', registryDate: '2026-11-20', areaCodes: ['312'], source: 'test', input: Readable.from(['+13125550401\n']) });
  for (const n of ['+13125550401', '+13125550402', '+13125550403', '+12025550404']) await recordConsent(infra.pool, infra.redis, { campaignId: 'c', number: n, leadId: 'l', source: 'web', consentedAt: new Date('2026-06-01T00:00:00Z'), expiresAt: new Date('2027-06-01T00:00:00Z') });
  await recordRndResults(infra.pool, infra.redis, [{ number: '+13125550403', disconnectedOn: '2026-08-01' }], 'rnd');
  await addLitigators(infra.pool, infra.redis, ['+18135550405'], 'vendor', '2026-11-30');
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

const outbound = (to: string): CallInfo => ({ switchCallId: '', switchName: 'test', ani: to, dnis: '+18885550600', direction: 'outbound', campaignId: 'c', callId: randomUUID() });
const inbound = (ani: string, dnis: string): CallInfo => ({ switchCallId: randomUUID(), switchName: 'test', ani, dnis, direction: 'inbound' });

it.each([
  ['on the registry copy', outbound('+13125550401'), 't', NOW, 'dnc_registry'],
  ['outside the copy\'s area codes', outbound('+12025550404'), 't', NOW, 'dnc_registry_stale'],
  ['screened against a 32-day-old copy', outbound('+13125550402'), 't', new Date('2026-12-22T16:00:00Z'), 'dnc_registry_stale'],
  ['reassigned since its consent', outbound('+13125550403'), 't', NOW, 'number_reassigned'],
  ['a litigator on a campaign that blocks them', inbound('+18135550405', '+18885550601'), 'ts', NOW, 'litigator'],
])('a call %s is refused and reserves nothing', async (_name, info, target, now, reason) => {
  const d = await node.router.decide(info.callId ?? randomUUID(), info, now);
  expect(d.outcome).toBe('reject');
  expect(d.trace.screening?.reasons).toEqual([reason]);
  expect(await node.caps.concurrentCalls(target, now.getTime())).toBe(0);
});

it('a clean call does reserve (the check above can fail)', async () => {
  const d = await node.router.decide(randomUUID(), outbound('+13125550402'), NOW);
  expect(d.outcome).toBe('route');
  expect(await node.caps.concurrentCalls('t', NOW.getTime())).toBe(1);
});
