import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { attestationTrust, billingSweepSettings, ConfigError, loadConfig } from '../../app/config';

describe('configuration from the environment', () => {
  it('applies documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ HTTP_PORT: 8080, REDIS_PREFIX: 'callx:', SWITCHES: [], FS_ESL_PORT: 8021, MIGRATE_ON_START: true });
  });

  it('parses lists, numbers and booleans', () => {
    const c = loadConfig({ SWITCHES: 'freeswitch, asterisk', HTTP_PORT: '9000', RECORDER_ENABLED: 'false' });
    expect(c.SWITCHES).toEqual(['freeswitch', 'asterisk']);
    expect(c.HTTP_PORT).toBe(9000);
    expect(c.RECORDER_ENABLED).toBe(false);
  });

  it('ATTESTATION_TRUSTED_CARRIERS: addresses and trunk names; none trusted by default', () => {
    expect(attestationTrust(loadConfig({}))).toEqual({ addresses: [], trunks: [] });
    const c = loadConfig({ ATTESTATION_TRUSTED_CARRIERS: '203.0.113.10, trunk:callx_carriers' });
    expect(attestationTrust(c)).toEqual({ addresses: ['203.0.113.10'], trunks: ['callx_carriers'] });
  });

  it('the billing sweep: every minute, 2 minutes of grace, 7 days back by default; 0 turns it off', () => {
    expect(billingSweepSettings(loadConfig({}))).toEqual({ intervalMs: 60_000, graceMs: 120_000, maxAgeDays: 7 });
    expect(billingSweepSettings(loadConfig({ BILLING_SWEEP_INTERVAL_MS: '0' }))).toBeUndefined();
  });

  it.each([
    [{ HTTP_PORT: 'eighty' }, 'HTTP_PORT'],
    [{ FS_ESL_PORT: '70000' }, 'FS_ESL_PORT'],
    [{ SWITCHES: 'freeswitch,kamailio' }, 'SWITCHES'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_SCHEMA: 'x; drop table calls' }, 'DATABASE_SCHEMA'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ATTESTATION_TRUSTED_CARRIERS: 'carrier.example.com' }, 'ATTESTATION_TRUSTED_CARRIERS'],
    [{ BILLING_SWEEP_GRACE_MS: '10' }, 'BILLING_SWEEP_GRACE_MS'],
    [{ BILLING_SWEEP_MAX_AGE_DAYS: '0' }, 'BILLING_SWEEP_MAX_AGE_DAYS'],
  ])('rejects %j naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(name));
  });

  it('a bad value stops start-up with a clear message and exit code 2', () => {
    const main = path.join(__dirname, '..', '..', 'app', 'main.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, HTTP_PORT: 'nope' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('invalid configuration');
    expect(r.stderr).toContain('HTTP_PORT');
  });
});
