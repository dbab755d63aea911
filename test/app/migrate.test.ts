import { migrate } from '../../app/store/migrate';
import { silentLogger } from '../../app/observability/logger';
import { createTestInfra, type TestInfra } from '../support/infra';

let infra: TestInfra;
beforeAll(async () => {
  infra = await createTestInfra('migrate', { migrate: false });
});
afterAll(async () => infra?.cleanup());

it('applies every migration once, records it, and a second run is a no-op', async () => {
  const first = await migrate(infra.pool, silentLogger());
  expect(first.applied.length).toBeGreaterThan(0);
  expect(first.alreadyApplied).toEqual([]);
  const second = await migrate(infra.pool, silentLogger());
  expect(second.applied).toEqual([]);
  expect(second.alreadyApplied).toEqual(first.applied);
  const recorded = (await infra.pool.query('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r) => r.name);
  expect(recorded).toEqual(first.applied);
  const tables = (await infra.pool.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [infra.schema])).rows.map((r) => r.table_name);
  expect(tables).toEqual(expect.arrayContaining(['accounts', 'campaigns', 'tracking_numbers', 'buyer_targets', 'calls', 'call_decisions', 'bridge_attempts', 'dnc_entries', 'consent_records', 'compliance_audit_log']));
});

it('concurrent runs (two nodes starting at once) do not collide', async () => {
  const other = await createTestInfra('migrate2', { migrate: false });
  try {
    const [a, b] = await Promise.all([migrate(other.pool, silentLogger()), migrate(other.pool, silentLogger())]);
    expect(a.applied.length + b.applied.length).toBe(a.applied.length + a.alreadyApplied.length);
  } finally {
    await other.cleanup();
  }
});
