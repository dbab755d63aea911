import {
  CALLING_HOURS_RULES,
  checkCallingHours,
  usHolidays,
  type CallingHoursRule,
  type CallingHoursVerdict,
  type HolidayName,
} from '../../app/domain/calling-hours';
import { locateByAreaCode, US_TIME_ZONES } from '../../app/domain/geo';

const ET = 'America/New_York';
const CT = 'America/Chicago';
const MT = 'America/Denver';

function check(iso: string, states: string[], timeZones: string[]): CallingHoursVerdict {
  return checkCallingHours({ now: new Date(iso), states, timeZones });
}

function blocked(v: CallingHoursVerdict): { reason: string; ruleId: string; timeZone: string; localTime: string } | 'allowed' {
  return v.allowed ? 'allowed' : { reason: v.reason, ruleId: v.ruleId, timeZone: v.timeZone, localTime: v.localTime };
}

describe('federal window 8:00-21:00 (New York, a Wednesday in winter)', () => {
  it.each([
    ['2026-01-14T07:59:00-05:00', { reason: 'outside_calling_hours', ruleId: 'US-FED-TSR', timeZone: ET, localTime: '2026-01-14 07:59 Wed' }],
    ['2026-01-14T08:00:00-05:00', 'allowed'],
    ['2026-01-14T20:59:00-05:00', 'allowed'],
    ['2026-01-14T21:00:00-05:00', { reason: 'outside_calling_hours', ruleId: 'US-FED-TSR', timeZone: ET, localTime: '2026-01-14 21:00 Wed' }],
    ['2026-01-15T02:30:00Z', { reason: 'outside_calling_hours', ruleId: 'US-FED-TSR', timeZone: ET, localTime: '2026-01-14 21:30 Wed' }],
  ])('%s → %j', (iso, expected) => {
    expect(blocked(check(iso, ['NY'], [ET]))).toEqual(expected);
  });

  it('a state without a stricter rule (or a territory) gets the federal window only', () => {
    expect(check('2026-11-26T20:30:00-05:00', ['NY'], [ET]).allowed).toBe(true); // Thanksgiving evening
    expect(check('2026-03-15T20:30:00-04:00', ['PR'], ['America/Puerto_Rico']).allowed).toBe(true); // a Sunday
  });
});

describe('state windows', () => {
  it.each([
    // Florida 8:00-20:00
    ['FL 19:59', '2026-01-14T19:59:00-05:00', ['FL'], [ET], 'allowed'],
    ['FL 20:00', '2026-01-14T20:00:00-05:00', ['FL'], [ET], 'FL-501.059'],
    ['FL 08:00', '2026-01-14T08:00:00-05:00', ['FL'], [ET], 'allowed'],
    // Oklahoma, Washington, Massachusetts, Maryland: 8:00-20:00
    ['OK 20:00', '2026-01-14T20:00:00-06:00', ['OK'], [CT], 'OK-775C.4'],
    ['WA 20:00', '2026-01-14T20:00:00-08:00', ['WA'], ['America/Los_Angeles'], 'WA-80.36.390'],
    ['MA 20:00', '2026-01-14T20:00:00-05:00', ['MA'], [ET], 'MA-159C-3'],
    ['MD 20:00', '2026-01-14T20:00:00-05:00', ['MD'], [ET], 'MD-14-4503'],
    // Connecticut 9:00-20:00, Kentucky 10:00-21:00, Michigan and Minnesota 9:00-21:00
    ['CT 08:59', '2026-01-14T08:59:00-05:00', ['CT'], [ET], 'CT-42-288a'],
    ['CT 09:00', '2026-01-14T09:00:00-05:00', ['CT'], [ET], 'allowed'],
    ['KY 09:59', '2026-01-14T09:59:00-05:00', ['KY'], [ET], 'KY-367.46955'],
    ['KY 10:00', '2026-01-14T10:00:00-05:00', ['KY'], [ET], 'allowed'],
    ['MI 08:30', '2026-01-14T08:30:00-05:00', ['MI'], [ET], 'MI-445.111c'],
    ['MN 08:30', '2026-01-14T08:30:00-06:00', ['MN'], [CT], 'MN-325E.27'],
    // Texas: 9:00-21:00 Monday-Saturday, 12:00-21:00 Sunday
    ['TX Wed 08:59', '2026-01-14T08:59:00-06:00', ['TX'], [CT], 'TX-301.051'],
    ['TX Sun 11:59', '2026-01-18T11:59:00-06:00', ['TX'], [CT], 'TX-301.051'],
    ['TX Sun 12:00', '2026-01-18T12:00:00-06:00', ['TX'], [CT], 'allowed'],
    // Rhode Island: 9:00-18:00 Monday-Friday, 10:00-17:00 Saturday
    ['RI Fri 17:59', '2026-01-16T17:59:00-05:00', ['RI'], [ET], 'allowed'],
    ['RI Fri 18:00', '2026-01-16T18:00:00-05:00', ['RI'], [ET], 'RI-5-61-3.6'],
    ['RI Sat 09:59', '2026-01-17T09:59:00-05:00', ['RI'], [ET], 'RI-5-61-3.6'],
    ['RI Sat 16:59', '2026-01-17T16:59:00-05:00', ['RI'], [ET], 'allowed'],
    ['RI Sat 17:00', '2026-01-17T17:00:00-05:00', ['RI'], [ET], 'RI-5-61-3.6'],
    // Alabama and Louisiana 8:00-20:00 on the days they allow
    ['AL Sat 19:59', '2026-03-14T19:59:00-05:00', ['AL'], [CT], 'allowed'],
    ['AL Sat 20:00', '2026-03-14T20:00:00-05:00', ['AL'], [CT], 'AL-770-X-5-.17'],
    ['LA Mon 20:00', '2026-03-16T20:00:00-05:00', ['LA'], [CT], 'LA-R-29617'],
    ['MS Mon 20:30', '2026-03-16T20:30:00-05:00', ['MS'], [CT], 'allowed'],
  ])('%s', (_name, iso, states, zones, expected) => {
    const v = check(iso, states, zones);
    expect(v.allowed ? 'allowed' : v.ruleId).toBe(expected);
    if (!v.allowed) expect(v.reason).toBe('outside_calling_hours');
  });
});

describe('barred days', () => {
  it.each([
    ['AL', CT, 'AL-770-X-5-.17'],
    ['LA', CT, 'LA-R-29617'],
    ['MS', CT, 'MS-77-3-723'],
    ['UT', MT, 'UT-13-25a-103'],
    ['RI', ET, 'RI-5-61-3.6'],
  ])('%s bars Sundays, all day', (state, zone, ruleId) => {
    const v = check('2026-03-15T18:00:00Z', [state], [zone]); // Sunday, midday in the Eastern to Mountain zones
    expect(blocked(v)).toMatchObject({ reason: 'day_barred', ruleId, timeZone: zone });
    expect(v.allowed || v.detail).toContain('Sun');
  });

  it('the Monday after is open again', () => {
    expect(check('2026-03-16T12:00:00-05:00', ['AL'], [CT]).allowed).toBe(true);
  });
});

describe('holidays', () => {
  it.each([
    ['UT Pioneer Day', '2026-07-24T12:00:00-06:00', 'UT', MT, 'UT-13-25a-103', 'pioneer_day'],
    ['UT Independence Day observed on Friday (the 4th is a Saturday)', '2026-07-03T12:00:00-06:00', 'UT', MT, 'UT-13-25a-103', 'independence_day (observed)'],
    ['UT New Year observed on Dec 31 of the year before', '2021-12-31T12:00:00-07:00', 'UT', MT, 'UT-13-25a-103', 'new_years_day (observed)'],
    ['PA Thanksgiving', '2026-11-26T12:00:00-05:00', 'PA', ET, 'PA-2245', 'thanksgiving'],
    ['PA Election Day', '2026-11-03T12:00:00-05:00', 'PA', ET, 'PA-2245', 'election_day'],
    ['PA Good Friday', '2026-04-03T12:00:00-04:00', 'PA', ET, 'PA-2245', 'good_friday'],
    ['AL Jefferson Davis birthday', '2026-06-01T12:00:00-05:00', 'AL', CT, 'AL-770-X-5-.17', 'jefferson_davis_birthday'],
    ['LA Mardi Gras', '2026-02-17T12:00:00-06:00', 'LA', CT, 'LA-R-29617', 'mardi_gras'],
    ['RI Victory Day', '2026-08-10T12:00:00-04:00', 'RI', ET, 'RI-5-61-3.6', 'victory_day'],
    ['RI Independence Day (May 4)', '2026-05-04T12:00:00-04:00', 'RI', ET, 'RI-5-61-3.6', 'ri_independence_day'],
  ])('%s', (_name, iso, state, zone, ruleId, holiday) => {
    const v = check(iso, [state], [zone]);
    expect(blocked(v)).toMatchObject({ reason: 'holiday_barred', ruleId, timeZone: zone });
    expect(v.allowed || v.detail).toContain(holiday);
  });

  it.each([
    ['PA the day after Thanksgiving', '2026-11-27T12:00:00-05:00', 'PA', ET],
    ['RI the day after Victory Day', '2026-08-11T12:00:00-04:00', 'RI', ET],
    ['NY on Thanksgiving (no holiday rule)', '2026-11-26T12:00:00-05:00', 'NY', ET],
    ['MS on Christmas (holiday bar repealed)', '2026-12-25T12:00:00-06:00', 'MS', CT],
    ['FL on Christmas', '2026-12-25T12:00:00-05:00', 'FL', ET],
  ])('%s is allowed', (_name, iso, state, zone) => {
    expect(check(iso, [state], [zone])).toEqual({ allowed: true });
  });

  it('the holiday is the consumer\'s local date, not UTC\'s', () => {
    // 2026-11-27 00:30 UTC is already the 27th in UTC but still Thanksgiving evening in Pennsylvania.
    expect(blocked(check('2026-11-26T13:30:00Z', ['PA'], [ET]))).toMatchObject({ reason: 'holiday_barred' });
    expect(blocked(check('2026-11-27T00:30:00Z', ['PA'], [ET]))).toMatchObject({ reason: 'holiday_barred', localTime: '2026-11-26 19:30 Thu' });
    expect(check('2026-11-27T13:30:00Z', ['PA'], [ET]).allowed).toBe(true);
  });
});

describe('daylight saving time (America/New_York)', () => {
  it.each([
    // Spring forward, Sunday 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
    ['2026-03-08T06:59:00Z', '2026-03-08 01:59 Sun'],
    ['2026-03-08T07:00:00Z', '2026-03-08 03:00 Sun'],
    ['2026-03-08T11:59:00Z', '2026-03-08 07:59 Sun'], // would be 06:59 without DST
    // Fall back, Sunday 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC.
    ['2026-11-01T05:59:00Z', '2026-11-01 01:59 Sun'],
    ['2026-11-01T06:00:00Z', '2026-11-01 01:00 Sun'],
    ['2026-11-01T12:59:00Z', '2026-11-01 07:59 Sun'], // would be 08:59 (allowed) without the switch
  ])('%s is %s local: blocked', (iso, localTime) => {
    expect(blocked(check(iso, ['NY'], [ET]))).toEqual({ reason: 'outside_calling_hours', ruleId: 'US-FED-TSR', timeZone: ET, localTime });
  });

  it.each([
    ['2026-03-08T12:00:00Z', true], // 08:00 EDT on the switch day
    ['2026-03-07T12:59:00Z', false], // the day before: 07:59 EST
    ['2026-03-09T00:59:00Z', true], // 20:59 EDT
    ['2026-03-09T01:00:00Z', false], // 21:00 EDT
    ['2026-11-01T13:00:00Z', true], // 08:00 EST on the switch day
    ['2026-10-31T12:00:00Z', true], // the day before: 08:00 EDT
    ['2026-11-02T01:59:00Z', true], // 20:59 EST
    ['2026-11-02T02:00:00Z', false], // 21:00 EST
  ])('%s allowed: %s', (iso, allowed) => {
    expect(check(iso, ['NY'], [ET]).allowed).toBe(allowed);
  });
});

describe('ambiguous locations: every candidate zone must be inside the window', () => {
  const fl850 = locateByAreaCode('850')!; // Florida panhandle: Eastern and Central

  it.each([
    ['2026-01-14T13:30:00Z', { reason: 'outside_calling_hours', ruleId: 'US-FED-TSR', timeZone: CT, localTime: '2026-01-14 07:30 Wed' }], // 08:30 ET
    ['2026-01-14T14:00:00Z', 'allowed'], // 09:00 ET, 08:00 CT
    ['2026-01-15T00:59:00Z', 'allowed'], // 19:59 ET, 18:59 CT
    ['2026-01-15T01:00:00Z', { reason: 'outside_calling_hours', ruleId: 'FL-501.059', timeZone: ET, localTime: '2026-01-14 20:00 Wed' }], // 20:00 ET
  ])('850 at %s → %j', (iso, expected) => {
    expect(blocked(check(iso, fl850.states, fl850.timeZones))).toEqual(expected);
  });

  it('two candidate states: both states\' rules apply', () => {
    // Texhoma: OK (8:00-20:00) and TX (9:00 start); at 08:30 Texas blocks, at 20:30 Oklahoma does.
    expect(blocked(check('2026-01-14T08:30:00-06:00', ['OK', 'TX'], [CT]))).toMatchObject({ ruleId: 'TX-301.051' });
    expect(blocked(check('2026-01-14T20:30:00-06:00', ['OK', 'TX'], [CT]))).toMatchObject({ ruleId: 'OK-775C.4' });
    expect(check('2026-01-14T12:00:00-06:00', ['OK', 'TX'], [CT]).allowed).toBe(true);
  });
});

describe('unknown location: the strictest of everything', () => {
  it('unknown states in a known zone: every state rule applies', () => {
    expect(blocked(check('2026-01-14T09:59:00-05:00', [], [ET]))).toMatchObject({ ruleId: 'KY-367.46955' });
    expect(check('2026-01-14T10:00:00-05:00', [], [ET]).allowed).toBe(true);
    expect(check('2026-01-14T17:59:00-05:00', [], [ET]).allowed).toBe(true);
    expect(blocked(check('2026-01-14T18:00:00-05:00', [], [ET]))).toMatchObject({ ruleId: 'RI-5-61-3.6' });
    expect(blocked(check('2026-01-18T12:00:00-05:00', [], [ET]))).toMatchObject({ reason: 'day_barred', ruleId: 'AL-770-X-5-.17' });
    expect(blocked(check('2026-11-26T12:00:00-05:00', [], [ET]))).toMatchObject({ reason: 'holiday_barred', ruleId: 'AL-770-X-5-.17' });
  });

  it('what New York allows, an unknown consumer does not', () => {
    expect(check('2026-01-14T12:00:00-05:00', ['NY'], [ET]).allowed).toBe(true);
    expect(check('2026-01-14T12:00:00-05:00', [], [...US_TIME_ZONES]).allowed).toBe(false);
  });

  it('with every US zone from Guam to American Samoa there is no legal minute at all', () => {
    // Guam (UTC+10) and Samoa (UTC-11) leave no common hour once Kentucky's 10:00 start and Rhode Island's
    // 18:00/17:00 end apply everywhere: the unknown consumer is never called. This documents that consequence.
    for (let t = Date.parse('2026-01-12T00:00:00Z'); t < Date.parse('2026-01-19T00:00:00Z'); t += 15 * 60_000) {
      expect(checkCallingHours({ now: new Date(t), states: [], timeZones: [...US_TIME_ZONES] }).allowed).toBe(false);
      expect(checkCallingHours({ now: new Date(t), states: [], timeZones: [] }).allowed).toBe(false); // no zones: all of them
    }
  });
});

describe('rule set', () => {
  it('a rule does not apply before its effective date (Connecticut, 1 October 2023)', () => {
    expect(check('2023-09-29T08:30:00-04:00', ['CT'], [ET]).allowed).toBe(true);
    expect(blocked(check('2023-10-02T08:30:00-04:00', ['CT'], [ET]))).toMatchObject({ ruleId: 'CT-42-288a' });
  });

  it('a custom rule set replaces the default one', () => {
    const federalOnly = CALLING_HOURS_RULES.filter((r) => r.jurisdiction === 'US');
    expect(checkCallingHours({ now: new Date('2026-01-14T20:30:00-05:00'), states: ['FL'], timeZones: [ET] }, federalOnly).allowed).toBe(true);
    const sundayOff: CallingHoursRule = { ...federalOnly[0]!, id: 'TEST', windows: { 1: { start: 0, end: 1440 } } };
    expect(blocked(checkCallingHours({ now: new Date('2026-01-18T12:00:00Z'), states: [], timeZones: [ET] }, [sundayOff]))).toMatchObject({ reason: 'day_barred', ruleId: 'TEST' });
  });

  it('every rule is well-formed', () => {
    const ids = new Set<string>();
    const names = new Set(Object.keys(usHolidays(2026)));
    for (const r of CALLING_HOURS_RULES) {
      expect(ids.has(r.id)).toBe(false);
      ids.add(r.id);
      expect(r.jurisdiction).toMatch(/^(US|[A-Z]{2})$/);
      expect(r.source.length).toBeGreaterThan(10);
      expect(r.effectiveFrom).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.reviewedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      for (const w of Object.values(r.windows)) {
        expect(w.start).toBeGreaterThanOrEqual(0);
        expect(w.end).toBeLessThanOrEqual(1440);
        expect(w.start).toBeLessThan(w.end);
      }
      expect(r.barsHolidays).toBe((r.holidays ?? []).length > 0);
      for (const h of r.holidays ?? []) expect(names.has(h)).toBe(true);
    }
    expect(CALLING_HOURS_RULES[0]!.id).toBe('US-FED-TSR');
  });
});

describe('usHolidays', () => {
  it('2026', () => {
    expect(usHolidays(2026)).toEqual({
      new_years_day: '2026-01-01',
      battle_of_new_orleans: '2026-01-08',
      mlk_day: '2026-01-19',
      robert_e_lee_day: '2026-01-19',
      washingtons_birthday: '2026-02-16',
      mardi_gras: '2026-02-17',
      good_friday: '2026-04-03',
      confederate_memorial_day: '2026-04-27',
      ri_independence_day: '2026-05-04',
      memorial_day: '2026-05-25',
      jefferson_davis_birthday: '2026-06-01',
      flag_day: '2026-06-14',
      juneteenth: '2026-06-19',
      independence_day: '2026-07-04',
      pioneer_day: '2026-07-24',
      victory_day: '2026-08-10',
      labor_day: '2026-09-07',
      columbus_day: '2026-10-12',
      all_saints_day: '2026-11-01',
      election_day: '2026-11-03',
      veterans_day: '2026-11-11',
      thanksgiving: '2026-11-26',
      christmas: '2026-12-25',
    } satisfies Record<HolidayName, string>);
  });

  it.each([
    [2024, 'good_friday', '2024-03-29'],
    [2024, 'mardi_gras', '2024-02-13'],
    [2024, 'thanksgiving', '2024-11-28'],
    [2024, 'election_day', '2024-11-05'],
    [2025, 'good_friday', '2025-04-18'],
    [2025, 'mardi_gras', '2025-03-04'],
    [2025, 'memorial_day', '2025-05-26'],
    [2025, 'election_day', '2025-11-04'], // November 1st is a Saturday: the first Monday is the 3rd
    [2027, 'good_friday', '2027-03-26'],
    [2027, 'mlk_day', '2027-01-18'],
    [2027, 'memorial_day', '2027-05-31'],
    [2027, 'thanksgiving', '2027-11-25'],
    [2028, 'election_day', '2028-11-07'],
    [2030, 'confederate_memorial_day', '2030-04-22'],
  ] as const)('%i %s is %s', (year, name, date) => {
    expect(usHolidays(year)[name]).toBe(date);
  });
});
