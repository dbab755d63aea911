import { DEFAULT_FREQUENCY_POLICY, frequencyLimitsFor, frequencyRetentionSec, frequencySubjectOf, STATE_FREQUENCY_RULES, type FrequencyPolicy } from '../../app/domain/frequency-limits';

const NOW = new Date('2026-11-18T17:00:00Z');
const none: FrequencyPolicy = { platformDefault: { limit: 0, windowHours: 24 }, subject: 'seller' };
const limitsOf = (states: string[], policy: FrequencyPolicy = none, now = NOW) => frequencyLimitsFor({ states, now, policy }).map((l) => `${l.limit}/${l.windowSec / 3600}h ${l.source}`);

describe('frequencyLimitsFor: the state rules, with their citations', () => {
  it.each([
    { states: ['FL'], want: ['3/24h Fla. Stat. § 501.616(6)(b)'] },
    { states: ['OK'], want: ['3/24h Okla. Stat. tit. 15, § 775C.4'] },
    { states: ['MD'], want: ['3/24h Md. Code, Com. Law § 14-4503 (Stop the Spam Calls Act of 2023)'] },
    { states: ['TX'], want: [] },
    { states: [], want: [] },
    // a number two states claim (area code in one, zip in another): the strictest, once per window
    { states: ['NY', 'FL'], want: ['3/24h Fla. Stat. § 501.616(6)(b)'] },
    { states: ['FL', 'MD'], want: ['3/24h Fla. Stat. § 501.616(6)(b)'] },
  ])('$states -> $want', ({ states, want }) => {
    expect(limitsOf(states)).toEqual(want);
  });

  it('every rule cites its statute and binds from local midnight of its first day', () => {
    for (const r of STATE_FREQUENCY_RULES) {
      expect(r.citation).toMatch(/§/);
      expect(r.inForceFrom).toMatch(/T00:00:00-0[45]:00$/);
    }
  });

  it.each([
    // Maryland's Act took effect 1 January 2024, in Maryland: 04:59 UTC is still 31 December there
    { at: '2024-01-01T04:59:59Z', states: ['MD'], want: [] },
    { at: '2024-01-01T05:00:00Z', states: ['MD'], want: ['3/24h Md. Code, Com. Law § 14-4503 (Stop the Spam Calls Act of 2023)'] },
    { at: '2021-07-01T03:59:59Z', states: ['FL'], want: [] },
    { at: '2021-07-01T04:00:00Z', states: ['FL'], want: ['3/24h Fla. Stat. § 501.616(6)(b)'] },
    { at: '2022-11-01T04:59:59Z', states: ['OK'], want: [] },
    { at: '2022-11-01T05:00:00Z', states: ['OK'], want: ['3/24h Okla. Stat. tit. 15, § 775C.4'] },
  ])('in force from its first local day: $states at $at', ({ at, states, want }) => {
    expect(limitsOf(states, none, new Date(at))).toEqual(want);
  });
});

describe('frequencyLimitsFor: the platform default', () => {
  it.each([
    { name: 'applies where no state rule does', states: ['TX'], policy: { limit: 5, windowHours: 24 }, want: ['5/24h platform default'] },
    { name: 'a looser default leaves the state rule in force', states: ['FL'], policy: { limit: 5, windowHours: 24 }, want: ['3/24h Fla. Stat. § 501.616(6)(b)'] },
    { name: 'a stricter default wins over the state rule', states: ['FL'], policy: { limit: 2, windowHours: 24 }, want: ['2/24h platform default'] },
    { name: 'a default over another window adds a limit', states: ['FL'], policy: { limit: 6, windowHours: 168 }, want: ['3/24h Fla. Stat. § 501.616(6)(b)', '6/168h platform default'] },
    { name: '0 calls means no default', states: ['TX'], policy: { limit: 0, windowHours: 24 }, want: [] },
  ])('$name', ({ states, policy, want }) => {
    expect(limitsOf(states, { platformDefault: policy, subject: 'seller' })).toEqual(want);
  });

  it('ships with 3 calls per 24 hours per seller', () => {
    expect(DEFAULT_FREQUENCY_POLICY).toEqual({ platformDefault: { limit: 3, windowHours: 24 }, subject: 'seller' });
  });
});

describe('counting', () => {
  it('keeps calls for the longest window any call may be judged by', () => {
    expect(frequencyRetentionSec(none)).toBe(86_400);
    expect(frequencyRetentionSec({ platformDefault: { limit: 6, windowHours: 168 }, subject: 'seller' })).toBe(168 * 3600);
  });

  it('counts per seller or per campaign', () => {
    const c = { id: 'c1', sellerAccountId: 's1' };
    expect(frequencySubjectOf(c, 'seller')).toBe('seller:s1');
    expect(frequencySubjectOf(c, 'campaign')).toBe('campaign:c1');
  });
});
