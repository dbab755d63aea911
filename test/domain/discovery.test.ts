import { hasFunds, isScheduleOpen, judgeTarget, matchTargeting } from '../../app/domain/discovery';
import type { Account, BuyerTarget, Schedule } from '../../app/domain/model';

describe('matchTargeting', () => {
  it.each([
    { t: {}, geo: { states: [] }, ok: true, why: 'no restriction admits anyone, even an unknown location' },
    { t: { states: ['FL'] }, geo: { states: ['FL'] }, ok: true, why: 'state listed' },
    { t: { states: ['FL'] }, geo: { states: ['GA'] }, ok: false, reason: 'geo_state', why: 'state not listed' },
    { t: { states: ['FL'] }, geo: { states: [] }, ok: false, reason: 'geo_unknown', why: 'state required but unknown' },
    { t: { states: ['FL'] }, geo: { states: ['GA', 'FL'] }, ok: true, why: 'ambiguous location that may be in a listed state' },
    { t: { excludeStates: ['CA'] }, geo: { states: ['NV', 'CA'] }, ok: false, reason: 'geo_state', why: 'may be in an excluded state' },
    { t: { excludeStates: ['CA'] }, geo: { states: ['NV'] }, ok: true, why: 'not in the excluded state' },
    { t: { areaCodes: ['813'] }, geo: { states: ['FL'], areaCode: '813' }, ok: true, why: 'area code listed' },
    { t: { areaCodes: ['813'] }, geo: { states: ['FL'], areaCode: '305' }, ok: false, reason: 'geo_area_code', why: 'area code not listed' },
    { t: { zips: ['33602'] }, geo: { states: ['FL'], zip: '33602-1234' }, ok: true, why: 'ZIP+4 matches its 5-digit zip' },
    { t: { zips: ['33602'] }, geo: { states: ['FL'] }, ok: false, reason: 'geo_zip', why: 'zip required but not given' },
  ])('$why', ({ t, geo, ok, reason }) => {
    const v = matchTargeting(t, geo);
    expect(v.eligible).toBe(ok);
    if (!v.eligible) expect(v.reason).toBe(reason);
  });
});

describe('isScheduleOpen', () => {
  // Mon-Fri 9:00-17:00 in New York
  const weekdays: Schedule = { timeZone: 'America/New_York', hours: { 1: [[540, 1020]], 2: [[540, 1020]], 3: [[540, 1020]], 4: [[540, 1020]], 5: [[540, 1020]] } };
  it.each([
    { now: '2026-11-23T14:00:00Z', open: true, why: 'Monday 09:00 EST: opening minute' },
    { now: '2026-11-23T13:59:00Z', open: false, why: 'Monday 08:59 EST' },
    { now: '2026-11-23T21:59:00Z', open: true, why: 'Monday 16:59 EST' },
    { now: '2026-11-23T22:00:00Z', open: false, why: 'Monday 17:00 EST: closing minute is closed' },
    { now: '2026-11-22T15:00:00Z', open: false, why: 'Sunday' },
    { now: '2026-07-06T13:00:00Z', open: true, why: 'Monday 09:00 EDT (summer offset)' },
    { now: '2026-03-09T12:59:00Z', open: false, why: 'Monday after the spring DST switch, 08:59 EDT' },
    { now: '2026-03-09T13:00:00Z', open: true, why: 'Monday after the spring DST switch, 09:00 EDT' },
    { now: '2026-11-24T02:00:00Z', open: false, why: 'Monday 21:00 EST is Tuesday in UTC but still closed Monday evening' },
  ])('$why', ({ now, open }) => {
    expect(isScheduleOpen(weekdays, new Date(now)).eligible).toBe(open);
  });

  it('no schedule means always open', () => {
    expect(isScheduleOpen(undefined, new Date()).eligible).toBe(true);
  });

  it('an unknown zone excludes with a clear reason instead of throwing', () => {
    const v = isScheduleOpen({ timeZone: 'Mars/Olympus', hours: {} }, new Date());
    expect(v).toMatchObject({ eligible: false, reason: 'schedule_invalid' });
  });
});

describe('judgeTarget', () => {
  const buyer: Account = { id: 'b1', kind: 'buyer', name: 'b', active: true, balanceCents: 1000, creditLimitCents: 500 };
  const target: BuyerTarget = {
    id: 't1', buyerAccountId: 'b1', campaignId: 'c1', name: 't', active: true, bidCents: 1500, destination: 'sip:b@x',
    answerTimeoutSec: 20, targeting: {}, caps: {}, qualityScore: 1, priority: 1, weight: 1, convertOnSeconds: 60,
  };
  const now = new Date('2026-11-23T15:00:00Z');
  it.each([
    { name: 'eligible with balance + credit exactly covering the bid', t: {}, b: {}, floor: 0, reason: undefined },
    { name: 'inactive target', t: { active: false }, b: {}, floor: 0, reason: 'target_inactive' },
    { name: 'inactive buyer', t: {}, b: { active: false }, floor: 0, reason: 'buyer_inactive' },
    { name: 'no destination', t: { destination: undefined }, b: {}, floor: 0, reason: 'no_destination' },
    { name: 'below floor', t: {}, b: {}, floor: 1501, reason: 'below_floor' },
    { name: 'insufficient funds', t: {}, b: { balanceCents: 999 }, floor: 0, reason: 'insufficient_funds' },
    { name: 'geography', t: { targeting: { states: ['TX'] } }, b: {}, floor: 0, reason: 'geo_state' },
  ])('$name', ({ t, b, floor, reason }) => {
    const v = judgeTarget({ ...target, ...t }, { ...buyer, ...b }, { states: ['FL'] }, floor, now);
    if (reason) expect(v).toMatchObject({ eligible: false, reason });
    else expect(v).toEqual({ eligible: true });
  });

  it('a buyer missing from the config is treated as inactive', () => {
    expect(judgeTarget(target, undefined, { states: [] }, 0, now)).toMatchObject({ eligible: false, reason: 'buyer_inactive' });
  });

  it('hasFunds counts credit', () => {
    expect(hasFunds({ ...buyer, balanceCents: -200, creditLimitCents: 300 }, 100)).toBe(true);
    expect(hasFunds({ ...buyer, balanceCents: -200, creditLimitCents: 300 }, 101)).toBe(false);
  });
});
