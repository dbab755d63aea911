import fc from 'fast-check';
import { judgeTargetForCall, type ConsumerGeo } from '../../app/domain/discovery';
import { TargetIndex } from '../../app/domain/target-index';
import type { BuyerTarget, Schedule, Targeting } from '../../app/domain/model';

const STATES = ['FL', 'GA', 'TX', 'CA', 'NY'];
const AREA_CODES = ['813', '305', '404', '214'];
const ZIPS = ['33602', '30301', '75001'];
const ZONES = ['America/New_York', 'America/Chicago', 'America/Phoenix', 'Pacific/Honolulu', 'Australia/Lord_Howe', 'Mars/Olympus'];

const base: Omit<BuyerTarget, 'id' | 'targeting' | 'schedule'> = {
  buyerAccountId: 'b', campaignId: 'c', name: 't', active: true, bidCents: 1000, destination: 'sip:t@x',
  answerTimeoutSec: 20, caps: {}, qualityScore: 1, priority: 1, weight: 1, convertOnSeconds: 60,
};

/** A list rule: absent, empty (no rule), or some values (maybe one the calls never have). */
const list = (values: string[]) => fc.option(fc.uniqueArray(fc.constantFrom(...values, 'ZZ'), { maxLength: 3 }), { nil: undefined });

const targeting: fc.Arbitrary<Targeting> = fc.record(
  { states: list(STATES), excludeStates: list(STATES), areaCodes: list(AREA_CODES), zips: list(ZIPS) },
  { requiredKeys: [] },
);

const minute = fc.integer({ min: -30, max: 1470 });
const schedule: fc.Arbitrary<Schedule | undefined> = fc.option(
  fc.record({
    timeZone: fc.constantFrom(...ZONES),
    hours: fc.dictionary(fc.constantFrom('0', '1', '2', '3', '4', '5', '6'), fc.array(fc.tuple(minute, minute), { maxLength: 3 })) as unknown as fc.Arbitrary<Schedule['hours']>,
  }),
  { nil: undefined },
);

const targets = fc.array(fc.record({ targeting, schedule }), { maxLength: 90 }).map((ts) =>
  ts.map((t, i): BuyerTarget => ({ ...base, id: `t${i}`, targeting: t.targeting, ...(t.schedule ? { schedule: t.schedule } : {}) })),
);

const geo: fc.Arbitrary<ConsumerGeo> = fc.record(
  {
    states: fc.uniqueArray(fc.constantFrom(...STATES, 'WA'), { maxLength: 2 }),
    areaCode: fc.constantFrom(...AREA_CODES, '206', ''),
    zip: fc.constantFrom(...ZIPS, '33602-1234', '336021234', '98101', '336', ''),
  },
  { requiredKeys: ['states'] },
);

// Whole minutes and seconds in 2026, with DST switches (8 March, 1 November in the US) in range.
const now = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }).map((ms) => new Date(ms));
/** Calls in a burst: some share a minute (the open-hours set is reused), some do not. */
const calls = fc.array(fc.tuple(geo, fc.oneof(now, fc.constant(new Date('2026-03-08T07:00:30Z')), fc.constant(new Date('2026-03-08T07:01:10Z')))), { minLength: 1, maxLength: 12 });

describe('TargetIndex', () => {
  it('marks exactly the targets the linear scan admits, in the same order, with the same reasons', () => {
    fc.assert(
      fc.property(targets, calls, (ts, cs) => {
        const index = new TargetIndex(ts);
        /** Answers by key: calls with one key must get one answer (discovery shares exclusions by it). */
        const byKey = new Map<string, string>();
        for (const [g, at] of cs) {
          const m = index.match(g, at);
          const linear = ts.map((t) => judgeTargetForCall(t, g, at));
          const indexedEligible = ts.filter((_, p) => m.isEligible(p)).map((t) => t.id);
          expect(indexedEligible).toEqual(ts.filter((_, p) => linear[p]!.eligible).map((t) => t.id));
          expect(m.eligibleCount).toBe(indexedEligible.length);
          ts.forEach((_, p) => {
            const v = linear[p]!;
            if (!v.eligible) expect(m.reason(p)).toBe(v.reason);
          });
          const answer = linear.map((v) => (v.eligible ? 'ok' : v.reason)).join(',');
          if (byKey.has(m.key)) expect(answer).toBe(byKey.get(m.key));
          else byKey.set(m.key, answer);
        }
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    { why: 'no rules: every target', t: {}, g: { states: [] }, reason: undefined },
    { why: 'a listed state', t: { states: ['FL'] }, g: { states: ['FL'] }, reason: undefined },
    { why: 'state required, location unknown', t: { states: ['FL'] }, g: { states: [] }, reason: 'geo_unknown' },
    { why: 'an ambiguous location that may be in an excluded state', t: { excludeStates: ['CA'] }, g: { states: ['NV', 'CA'] }, reason: 'geo_state' },
    { why: 'area code not listed', t: { areaCodes: ['813'] }, g: { states: ['FL'], areaCode: '305' }, reason: 'geo_area_code' },
    { why: 'ZIP+4 matching a listed zip', t: { zips: ['33602'] }, g: { states: ['FL'], zip: '33602-1234' }, reason: undefined },
    { why: 'zip rule, no zip given', t: { zips: ['33602'] }, g: { states: ['FL'] }, reason: 'geo_zip' },
  ])('$why', ({ t, g, reason }) => {
    // Beside an unrestricted target, so the index has sets of more than one kind of target.
    const index = new TargetIndex([{ ...base, id: 'free', targeting: {} }, { ...base, id: 'ruled', targeting: t }]);
    const m = index.match(g, new Date('2026-11-23T15:00:00Z'));
    expect(m.isEligible(0)).toBe(true);
    expect(m.isEligible(1)).toBe(reason === undefined);
    if (reason) expect(m.reason(1)).toBe(reason);
  });

  it('open hours follow the clock across calls (Monday 9-17 in New York)', () => {
    const hours = { timeZone: 'America/New_York', hours: { 1: [[540, 1020]] } } as Schedule;
    const index = new TargetIndex([{ ...base, id: 'office', targeting: {}, schedule: hours }]);
    expect(index.match({ states: [] }, new Date('2026-11-23T13:59:59Z')).isEligible(0)).toBe(false);
    expect(index.match({ states: [] }, new Date('2026-11-23T14:00:00Z')).isEligible(0)).toBe(true);
    expect(index.match({ states: [] }, new Date('2026-11-23T22:00:00Z')).reason(0)).toBe('schedule_closed');
  });
});
