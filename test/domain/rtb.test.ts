import { createHash } from 'node:crypto';
import type { BuyerTarget, Campaign } from '../../app/domain/model';
import { bidExpired, breakerAllows, breakerPhase, breakerRecord, judgeRtbAnswer, newBreaker, rtbBidExpiresAtMs, rtbPingBody, type RtbCallFacts } from '../../app/domain/rtb';

const target = (t: Partial<Pick<BuyerTarget, 'destination' | 'rtb'>> = {}): Pick<BuyerTarget, 'destination' | 'rtb'> => ({ rtb: { url: 'http://b.example/bid', minBidCents: 200, maxBidCents: 5000 }, ...t });

describe('judgeRtbAnswer', () => {
  it.each([
    ['a bid with its own destination', { bidCents: 1500, destination: 'sip:agent@calls.example', expiresInSeconds: 30 }, target(), { kind: 'bid', bidCents: 1500, destination: 'sip:agent@calls.example', expiresInSeconds: 30 }],
    ['a bid using the target\'s destination', { bidCents: 1500 }, target({ destination: '+15551230000' }), { kind: 'bid', bidCents: 1500, destination: '+15551230000' }],
    ['a number destination without its +', { bidCents: 300, destination: '15551230001' }, target(), { kind: 'bid', bidCents: 300, destination: '+15551230001' }],
    ['bidCents 0: no bid', { bidCents: 0 }, target(), { kind: 'no_bid' }],
    ['unknown keys ignored', { bidCents: 900, destination: 'sip:a@b.example', note: 'x' }, target(), { kind: 'bid', bidCents: 900, destination: 'sip:a@b.example' }],
  ] as const)('%s', (_what, raw, t, expected) => {
    expect(judgeRtbAnswer(raw, t)).toEqual(expected);
  });

  it.each([
    ['not an object', 'hello', /answer/],
    ['a fractional amount', { bidCents: 10.5, destination: 'sip:a@b.example' }, /bidCents/],
    ['a negative amount', { bidCents: -1 }, /bidCents/],
    ['an amount as text', { bidCents: '1500' }, /bidCents/],
    ['over the maximum', { bidCents: 5001, destination: 'sip:a@b.example' }, /over the target's maximum 5000/],
    ['under the minimum', { bidCents: 199, destination: 'sip:a@b.example' }, /under the target's minimum 200/],
    ['a destination with URI parameters', { bidCents: 900, destination: 'sip:a@b.example;transport=tcp' }, /destination/],
    ['a destination with a dial-string block', { bidCents: 900, destination: '{origination_caller_id_number=1}sip:a@b' }, /destination/],
    ['no destination anywhere', { bidCents: 900 }, /no destination/],
    ['an expiry of 0', { bidCents: 900, destination: 'sip:a@b.example', expiresInSeconds: 0 }, /expiresInSeconds/],
  ] as const)('invalid: %s', (_what, raw, detail) => {
    const v = judgeRtbAnswer(raw, target());
    expect(v.kind).toBe('invalid');
    expect(v.kind === 'invalid' && v.detail).toMatch(detail);
  });
});

describe('rtbPingBody', () => {
  const campaign = (rtbShare?: Campaign['rtbShare']): Campaign => ({ id: 'c1', sellerAccountId: 's', name: 'c', active: true, routing: 'second_price', floorCents: 0, requireConsent: false, noBuyerPrompt: 'x', bidDeadlineMs: 120, ...(rtbShare ? { rtbShare } : {}) });
  const facts: RtbCallFacts = { callId: 'call-1', e164: '+13125550100', areaCode: '312', states: ['IL'], zip: '60601', timeZones: ['America/Chicago'], attestation: 'B', now: new Date('2026-11-24T16:05:00Z') };

  it('shares nothing of the call by default: the campaign, the call id and tmax only', () => {
    expect(rtbPingBody(campaign(), { ...facts, repeatCaller: true }, 'salt')).toEqual({ callId: 'call-1', campaignId: 'c1', tmax: 120, call: {} });
  });

  it('shares each fact the campaign lists, the number only hashed with the salt', () => {
    const body = rtbPingBody(campaign(['areaCode', 'callerHash', 'state', 'zip', 'localTime', 'attestation', 'repeatCaller']), { ...facts, repeatCaller: true }, 'salt');
    expect(body.call).toEqual({
      areaCode: '312',
      callerHash: createHash('sha256').update('salt:+13125550100').digest('hex'),
      states: ['IL'],
      zip: '60601',
      localTime: '2026-11-24T10:05',
      timeZone: 'America/Chicago',
      attestation: 'B',
      repeatCaller: true,
    });
  });

  it('no salt: no hash; a location spanning zones: no local time', () => {
    const body = rtbPingBody(campaign(['callerHash', 'localTime']), { ...facts, timeZones: ['America/Chicago', 'America/Denver'] }, '');
    expect(body.call).toEqual({});
  });
});

describe('the circuit breaker', () => {
  const cfg = { failures: 3, coolOffMs: 1000 };

  it('opens after N failures in a row, refuses during the cool-off, lets one trial through, and closes on its success', () => {
    const b = newBreaker();
    for (let i = 0; i < 2; i++) {
      expect(breakerAllows(b, 0, cfg)).toBe(true);
      breakerRecord(b, false, 0, cfg);
    }
    breakerRecord(b, true, 0, cfg); // a success in between: the count starts again
    for (let i = 0; i < 3; i++) breakerRecord(b, false, 100, cfg);
    expect(breakerPhase(b, 100, cfg)).toBe('open');
    expect(breakerAllows(b, 1099, cfg)).toBe(false);
    expect(breakerPhase(b, 1100, cfg)).toBe('half_open');
    expect(breakerAllows(b, 1100, cfg)).toBe(true); // the trial
    expect(breakerAllows(b, 1101, cfg)).toBe(false); // only one
    breakerRecord(b, true, 1150, cfg);
    expect(breakerPhase(b, 1150, cfg)).toBe('closed');
    expect(breakerAllows(b, 1150, cfg)).toBe(true);
  });

  it('a failed trial opens it for another cool-off', () => {
    const b = newBreaker();
    for (let i = 0; i < 3; i++) breakerRecord(b, false, 0, cfg);
    expect(breakerAllows(b, 1000, cfg)).toBe(true);
    breakerRecord(b, false, 1050, cfg);
    expect(breakerPhase(b, 1500, cfg)).toBe('open');
    expect(breakerAllows(b, 2049, cfg)).toBe(false);
    expect(breakerAllows(b, 2050, cfg)).toBe(true);
  });
});

describe('a real-time bid\'s expiry', () => {
  it('counts expiresInSeconds from when the ping was sent; the bid stands until then, not at that moment; a bid that gives none never expires', () => {
    const at = rtbBidExpiresAtMs(10_000, 2);
    expect(at).toBe(12_000);
    expect(bidExpired({ expiresAtMs: at }, 11_999)).toBe(false);
    expect(bidExpired({ expiresAtMs: at }, 12_000)).toBe(true);
    expect(rtbBidExpiresAtMs(10_000, undefined)).toBeUndefined();
    expect(bidExpired({}, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});
