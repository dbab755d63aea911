/**
 * The shipped FreeSWITCH configuration (dialplan/callx.xml, freeswitch-conf/) sets what issue 12 found missing
 * on the real switch: socket_resume, a bounded park_timeout, sip_ignore_remote_cause, media_timeout instead of
 * the deprecated rtp-timeout-sec, and session limits for the documented rate.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { callxDialplanVariables } from './dialplan';

const ROOT = join(__dirname, '..', '..', '..');

describe('the shipped FreeSWITCH configuration', () => {
  it('hands calls to the exchange with socket_resume, a bounded park_timeout and our cause for the carrier', () => {
    const vars = callxDialplanVariables();
    expect(vars).toEqual(expect.objectContaining({ continue_on_fail: 'true', hangup_after_bridge: 'true', socket_resume: 'true', sip_ignore_remote_cause: 'true' }));
    const [seconds, cause] = (vars.park_timeout ?? '').split(':');
    expect(Number(seconds)).toBeGreaterThan(0);
    expect(Number(seconds)).toBeLessThanOrEqual(60);
    expect(cause).toBe('NORMAL_TEMPORARY_FAILURE');
    expect(Number(vars.media_timeout)).toBeGreaterThan(0);
  });

  it('uses media_timeout, not the deprecated rtp-timeout-sec, in its profiles', () => {
    const dir = join(ROOT, 'freeswitch-conf', 'sip_profiles');
    for (const f of readdirSync(dir)) {
      const xml = readFileSync(join(dir, f), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
      expect({ f, deprecated: /rtp-(hold-)?timeout-sec/.test(xml) }).toEqual({ f, deprecated: false });
    }
  });

  it('allows two sessions per call at 500 calls/s and 10,000 calls at once', () => {
    const xml = readFileSync(join(ROOT, 'freeswitch-conf', 'autoload_configs', 'switch.conf.xml'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    const param = (name: string): number => Number(new RegExp(`<param name="${name}" value="(\\d+)"/>`).exec(xml)?.[1]);
    expect(param('sessions-per-second') - 1).toBeGreaterThanOrEqual(2 * 500);
    expect(param('max-sessions')).toBeGreaterThanOrEqual(2 * 10_000);
  });
});
