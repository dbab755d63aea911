/**
 * A failed erase logs no phone number in clear (issue 13, finding 10): not in the path (the route's pattern is
 * logged), not in the error message (the database's message named the number here), only its erasure hash.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createApiKey } from '../../app/store/api-keys';
import { recordConsent } from '../../app/store/compliance-repo';
import { erasedToken } from '../../app/store/privacy-repo';
import { createTestInfra, type TestInfra } from '../support/infra';
import { captureLogger, ERROR, startLoggedTestNode } from '../support/log-capture';
import { seedAccount, seedCampaign } from '../support/seed';

let infra: TestInfra;
let node: ExchangeNode;
let admin: string;
const ANI = '+18135558001';
const { logger, lines } = captureLogger();

beforeAll(async () => {
  infra = await createTestInfra('api_erase_logging');
  node = await startLoggedTestNode(infra, logger, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false' });
  admin = (await createApiKey(infra.pool, { role: 'admin' })).key;
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 'seller', dids: ['+18885550490'] });
  await recordConsent(infra.pool, infra.redis, { campaignId: 'c', number: ANI, leadId: 'L-1', source: 'web form', consentedAt: new Date() });
  // The erase fails inside its transaction with a message naming the number, as a constraint or trigger might.
  await infra.pool.query(`CREATE FUNCTION refuse_consent_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'consent of % is under legal hold', OLD.number; END $$`);
  await infra.pool.query('CREATE TRIGGER refuse_consent_delete BEFORE DELETE ON consent_records FOR EACH ROW EXECUTE FUNCTION refuse_consent_delete()');
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

it('a failed erase answers 500 and its log line names the number by its hash only', async () => {
  const r = await fetch(`http://127.0.0.1:${node.httpPort}/v1/privacy/numbers/${encodeURIComponent(ANI)}/erase`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'consumer request' }),
  });
  expect(r.status).toBe(500);
  expect((await infra.pool.query('SELECT 1 FROM consent_records WHERE number = $1', [ANI])).rowCount).toBe(1); // nothing erased
  const failed = lines.filter((l) => l.level >= ERROR);
  expect(failed).toEqual([expect.objectContaining({ msg: 'API request failed', path: '/v1/privacy/numbers/:number/erase' })]);
  expect(String(failed[0]!.err)).toContain(erasedToken(ANI));
  expect(String(failed[0]!.err)).toContain('legal hold');
  const logged = JSON.stringify(lines);
  expect(logged).not.toContain('8135558001');
  expect(logged).not.toContain('813-555-8001');
});
