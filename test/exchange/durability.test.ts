import { spawn } from 'node:child_process';
import path from 'node:path';
import { CallRecorder } from '../../app/store/call-recorder';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';

/**
 * Nothing is lost if the process dies after the decision: the call path writes the decision and each bridge
 * attempt to the call journal (a Redis stream) before it moves on, and only the recorder, after its
 * Postgres transaction commits, removes them. Here a node is SIGKILLed mid-call; a recorder started
 * afterwards (as on another node, or the restarted one) writes the call.
 */
let infra: TestInfra;

beforeAll(async () => {
  infra = await createTestInfra('durability');
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: ['+18885550300'] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'b', campaignId: 'c', bidCents: 1234 });
});

afterAll(async () => {
  await infra?.cleanup();
});

it('a call decided and bridged by a node killed with SIGKILL is still recorded, with its trace and audit entry', async () => {
  const script = path.join(__dirname, '..', 'support', 'crash-after-decision.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, infra.schema, infra.prefix, '+18885550300', '+18135557777'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  expect(signal).toBe('SIGKILL');
  expect(out).toContain('BRIDGED');

  // Nothing reached Postgres: the dead node had no recorder.
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM calls')).rows[0].n).toBe(0);

  const journal = (await infra.redis.xrange('journal:calls', '-', '+')).map(([, fields]) => fields);
  expect(journal).toHaveLength(2); // the decision and the bridge attempt
  const recorder = new CallRecorder(infra.pool, infra.redis, silentLogger(), { consumer: 'survivor' });
  expect(await recorder.drain()).toBe(2);
  const call = (await infra.pool.query("SELECT * FROM calls WHERE switch_call_id = 'crash-leg'")).rows[0];
  expect(call).toMatchObject({ outcome: 'routed', winner_target_id: 't', ani: '+18135557777', campaign_id: 'c', ended_at: null });
  expect(Number(call.price_cents)).toBe(0); // second price, lone bidder, no floor
  expect((await infra.pool.query('SELECT trace FROM call_decisions WHERE call_id = $1', [call.id])).rows[0].trace.winnerTargetId).toBe('t');
  expect((await infra.pool.query('SELECT decision FROM compliance_audit_log WHERE call_id = $1', [call.id])).rows[0].decision).toBe('pass');
  expect((await infra.pool.query('SELECT status FROM bridge_attempts WHERE call_id = $1', [call.id])).rows[0].status).toBe('bridged');

  // The same entries delivered again (a recorder that died after its commit, before acknowledging) change nothing.
  for (const fields of journal) await infra.redis.xadd('journal:calls', '*', ...fields);
  expect(await recorder.drain()).toBe(2);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM calls')).rows[0].n).toBe(1);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM bridge_attempts')).rows[0].n).toBe(1);
  expect((await infra.pool.query('SELECT count(*)::int AS n FROM compliance_audit_log')).rows[0].n).toBe(1);
  expect(await infra.redis.xlen('journal:calls')).toBe(0);
  await recorder.stop();
});
