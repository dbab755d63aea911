import {
  CALLING_HOURS_RULES,
  checkCallingHours,
  usHolidays,
  type CallingHoursRule,
  type CallingHoursVerdict,
  type HolidayName,
} from '../../app/domain/calling-hours';
import { locateByAreaCode, locateForCallingHours, US_TIME_ZONES } from '../../app/domain/geo';

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
    ['FL 20:00', '2026-01-14T20:00:00-05:00', ['FL'], [ET], 'FL-501.616'],
    ['FL 08:00', '2026-01-14T08:00:00-05:00', ['FL'], [ET], 'allowed'],
    // Oklahoma, Washington, Massachusetts, Maryland: 8:00-20:00
    ['OK 20:00', '2026-01-14T20:00:00-06:00', ['OK'], [CT], 'OK-775C.4'],
    ['WA 20:00', '2026-01-14T20:00:00-08:00', ['WA'], ['America/Los_Angeles'], 'WA-19.158.040'],
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
    ['MS Mon 19:59', '2026-03-16T19:59:00-05:00', ['MS'], [CT], 'allowed'],
    ['MS Mon 20:00', '2026-03-16T20:00:00-05:00', ['MS'], [CT], 'MS-77-3-723'],
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
    ['2026-01-15T01:00:00Z', { reason: 'outside_calling_hours', ruleId: 'FL-501.616', timeZone: ET, localTime: '2026-01-14 20:00 Wed' }], // 20:00 ET
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
      expect(['US', 'CA']).toContain(r.country);
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

const PT = 'America/Los_Angeles';
const TORONTO = 'America/Toronto';

/** The instant a local wall-clock time names, for a winter date (fixed offsets, no DST in play). */
const WINTER_OFFSET: Record<string, string> = { [ET]: '-05:00', [CT]: '-06:00', [MT]: '-07:00', [PT]: '-08:00', [TORONTO]: '-05:00' };
const local = (date: string, hhmm: string, zone: string): Date => new Date(`${date}T${hhmm}:00${WINTER_OFFSET[zone]!}`);
const minus1 = (hhmm: string): string => {
  const m = Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)) - 1;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

describe('every rule, its citation and its boundary minutes (2026-01-14 is a Wednesday, 01-17 a Saturday, 01-18 a Sunday)', () => {
  // [rule id, citation its source must name, where, zone, date, first allowed minute, first refused minute, call kind]
  const rows: [string, string, string, string, string, string, string, 'live' | 'prerecorded'][] = [
    ['US-FED-TSR', '47 CFR 64.1200(c)(1)', 'NY', ET, '2026-01-14', '08:00', '21:00', 'live'],
    ['AL-770-X-5-.17', 'r. 770-X-5-.17', 'AL', CT, '2026-01-14', '08:00', '20:00', 'live'],
    ['CT-42-288a', '§ 42-288a', 'CT', ET, '2026-01-14', '09:00', '20:00', 'live'],
    ['FL-501.616', '§ 501.616(6)(a)', 'FL', ET, '2026-01-14', '08:00', '20:00', 'live'],
    ['KY-367.46955', '§ 367.46955', 'KY', ET, '2026-01-14', '10:00', '21:00', 'live'],
    ['LA-R-29617', 'R-29617', 'LA', CT, '2026-01-14', '08:00', '20:00', 'live'],
    ['MA-159C-3', 'ch. 159C § 3', 'MA', ET, '2026-01-14', '08:00', '20:00', 'live'],
    ['MD-14-4503', '§ 14-4501', 'MD', ET, '2026-01-14', '08:00', '20:00', 'live'],
    ['MI-445.111c', '§ 445.111c', 'MI', ET, '2026-01-14', '09:00', '21:00', 'live'],
    ['MN-325E.27', '§ 325E.27', 'MN', CT, '2026-01-14', '09:00', '21:00', 'live'],
    ['MS-77-3-723', '§ 77-3-723', 'MS', CT, '2026-01-14', '08:00', '20:00', 'live'],
    ['NM-57-12-22', '§ 57-12-22(B)(5)', 'NM', MT, '2026-01-14', '09:00', '21:00', 'live'],
    ['NV-597.814', '§ 597.814', 'NV', PT, '2026-01-14', '09:00', '21:00', 'prerecorded'],
    ['OK-755.1', '§ 755.1', 'OK', CT, '2026-01-14', '09:00', '21:00', 'prerecorded'],
    ['OK-775C.4', '§ 775C.4', 'OK', CT, '2026-01-14', '08:00', '20:00', 'live'],
    ['PA-2245', '§ 2245(a)', 'PA', ET, '2026-01-14', '08:00', '21:00', 'live'],
    ['RI-5-61-3.6', '§ 5-61-3.6', 'RI', ET, '2026-01-14', '09:00', '18:00', 'live'],
    ['RI-5-61-3.6', '§ 5-61-3.6', 'RI', ET, '2026-01-17', '10:00', '17:00', 'live'],
    ['TX-301.051', '§ 301.051', 'TX', CT, '2026-01-14', '09:00', '21:00', 'live'],
    ['TX-301.051', '§ 301.051', 'TX', CT, '2026-01-18', '12:00', '21:00', 'live'],
    ['UT-13-25a-103', '§ 13-25a-103', 'UT', MT, '2026-01-14', '08:00', '21:00', 'live'],
    ['WA-19.158.040', '§ 19.158.040(2)', 'WA', PT, '2026-01-14', '08:00', '20:00', 'live'],
    ['CA-CRTC-UTR', 'Unsolicited Telecommunications Rules', 'CA', TORONTO, '2026-01-14', '09:00', '21:30', 'live'],
    ['CA-CRTC-UTR', 'Unsolicited Telecommunications Rules', 'CA', TORONTO, '2026-01-17', '10:00', '18:00', 'live'],
    ['CA-CRTC-UTR', 'Unsolicited Telecommunications Rules', 'CA', TORONTO, '2026-01-18', '10:00', '18:00', 'live'],
  ];

  const input = (where: string, zone: string, now: Date, callKind: 'live' | 'prerecorded') =>
    where === 'CA'
      ? { now, states: [], timeZones: [zone], countries: ['CA' as const], callKind }
      : { now, states: [where], timeZones: [zone], callKind };

  it.each(rows)('%s (%s) in %s: %s, %s %s allowed, the minute before and %s refused', (id, citation, where, zone, date, start, end, kind) => {
    const rule = CALLING_HOURS_RULES.find((r) => r.id === id)!;
    expect(rule.source).toContain(citation);
    // With the national rules in force too (another rule of the same state may be stricter: Oklahoma's live-call
    // rule ends prerecorded calls at 20:00), the window's first and last minutes pass, the minutes either side do not.
    const withNational = CALLING_HOURS_RULES.filter((r) => r === rule || r.jurisdiction === r.country);
    expect(checkCallingHours(input(where, zone, local(date, start, zone), kind), withNational).allowed).toBe(true);
    expect(checkCallingHours(input(where, zone, local(date, minus1(end), zone), kind), withNational).allowed).toBe(true);
    expect(checkCallingHours(input(where, zone, local(date, minus1(start), zone), kind), withNational).allowed).toBe(false);
    expect(checkCallingHours(input(where, zone, local(date, end, zone), kind), withNational).allowed).toBe(false);
    // The rule alone refuses both outer minutes: the refusal is its own, not the federal rule's.
    for (const t of [minus1(start), end]) {
      expect(blocked(checkCallingHours(input(where, zone, local(date, t, zone), kind), [rule]))).toMatchObject({ reason: 'outside_calling_hours', ruleId: id, timeZone: zone });
    }
  });

  it('covers every rule in the table', () => {
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(CALLING_HOURS_RULES.map((r) => r.id)));
  });
});

describe('Mississippi: hours stated in Central Standard Time, read both ways', () => {
  it.each([
    // Winter: CST is the wall clock, 8:00-20:00.
    ['2026-01-14T07:59:00-06:00', { reason: 'outside_calling_hours', ruleId: 'US-FED-TSR' }],
    ['2026-01-14T08:00:00-06:00', 'allowed'],
    ['2026-01-14T19:59:00-06:00', 'allowed'],
    ['2026-01-14T20:00:00-06:00', { reason: 'outside_calling_hours', ruleId: 'MS-77-3-723', timeZone: CT }],
    // Summer (CDT): 08:30 CDT is 07:30 CST; the literal reading opens at 09:00 CDT. The evening ends at 20:00 CDT.
    ['2026-07-15T08:30:00-05:00', { reason: 'outside_calling_hours', ruleId: 'MS-77-3-723', timeZone: 'Etc/GMT+6', localTime: '2026-07-15 07:30 Wed' }],
    ['2026-07-15T08:59:00-05:00', { reason: 'outside_calling_hours', ruleId: 'MS-77-3-723', timeZone: 'Etc/GMT+6' }],
    ['2026-07-15T09:00:00-05:00', 'allowed'],
    ['2026-07-15T19:59:00-05:00', 'allowed'],
    ['2026-07-15T20:00:00-05:00', { reason: 'outside_calling_hours', ruleId: 'MS-77-3-723', timeZone: CT }],
    // The Mondays after both DST switches (the switch days are Sundays, barred all day).
    ['2026-03-09T08:59:00-05:00', { ruleId: 'MS-77-3-723', timeZone: 'Etc/GMT+6' }],
    ['2026-03-09T09:00:00-05:00', 'allowed'],
    ['2026-11-02T08:00:00-06:00', 'allowed'],
    ['2026-10-31T08:30:00-05:00', { ruleId: 'MS-77-3-723', timeZone: 'Etc/GMT+6' }], // Saturday before fall-back
    // Sundays, all day.
    ['2026-03-08T12:00:00-05:00', { reason: 'day_barred', ruleId: 'MS-77-3-723' }],
  ])('%s → %j', (iso, expected) => {
    const v = blocked(check(iso, ['MS'], [CT]));
    if (expected === 'allowed') expect(v).toBe('allowed');
    else expect(v).toMatchObject(expected);
  });
});

describe('Canada (CRTC Unsolicited Telecommunications Rules)', () => {
  const at = (iso: string, npa: string) => {
    const loc = locateForCallingHours({ country: 'CA', areaCode: npa });
    return checkCallingHours({ now: new Date(iso), ...loc });
  };

  it('a Toronto number: 09:00-21:30 on weekdays, later than any US rule would allow', () => {
    expect(at('2026-01-14T21:15:00-05:00', '416').allowed).toBe(true); // US federal rules would refuse at 21:00
    expect(at('2026-01-14T21:29:00-05:00', '416').allowed).toBe(true);
    expect(blocked(at('2026-01-14T21:30:00-05:00', '416'))).toMatchObject({ ruleId: 'CA-CRTC-UTR', timeZone: TORONTO, localTime: '2026-01-14 21:30 Wed' });
    expect(blocked(at('2026-01-14T08:59:00-05:00', '416'))).toMatchObject({ ruleId: 'CA-CRTC-UTR' });
  });

  it('10:00-18:00 on Saturdays and Sundays', () => {
    expect(blocked(at('2026-01-17T09:59:00-05:00', '514'))).toMatchObject({ ruleId: 'CA-CRTC-UTR', localTime: '2026-01-17 09:59 Sat' });
    expect(at('2026-01-17T17:59:00-05:00', '514').allowed).toBe(true);
    expect(blocked(at('2026-01-18T18:00:00-05:00', '514'))).toMatchObject({ ruleId: 'CA-CRTC-UTR', localTime: '2026-01-18 18:00 Sun' });
  });

  it.each([
    // Spring forward, Sunday 2026-03-08 (02:00 EST -> 03:00 EDT): the weekend window in EDT.
    ['2026-03-08T13:59:00Z', false], // 09:59 EDT
    ['2026-03-08T14:00:00Z', true], // 10:00 EDT
    ['2026-03-08T21:59:00Z', true], // 17:59 EDT
    ['2026-03-08T22:00:00Z', false], // 18:00 EDT
    // Fall back, Sunday 2026-11-01: the weekend window in EST.
    ['2026-11-01T14:59:00Z', false], // 09:59 EST
    ['2026-11-01T15:00:00Z', true], // 10:00 EST
    ['2026-11-01T22:59:00Z', true], // 17:59 EST
    ['2026-11-01T23:00:00Z', false], // 18:00 EST
  ])('Toronto on a DST day: %s allowed %s', (iso, allowed) => {
    expect(at(iso, '416').allowed).toBe(allowed);
  });

  it('Newfoundland and Labrador (709): Newfoundland time and Labrador\'s Atlantic time both apply', () => {
    expect(blocked(at('2026-01-14T09:15:00-03:30', '709'))).toMatchObject({ ruleId: 'CA-CRTC-UTR', timeZone: 'America/Goose_Bay', localTime: '2026-01-14 08:45 Wed' });
    expect(at('2026-01-14T09:30:00-03:30', '709').allowed).toBe(true);
    expect(at('2026-01-14T21:29:00-03:30', '709').allowed).toBe(true);
    expect(blocked(at('2026-01-14T21:30:00-03:30', '709'))).toMatchObject({ timeZone: 'America/St_Johns' });
  });

  it('no US state rule applies to a Canadian number (Texas\'s Sunday noon start, Rhode Island\'s 18:00 end)', () => {
    expect(at('2026-01-18T10:30:00-06:00', '204').allowed).toBe(true); // Winnipeg, a Sunday
    expect(at('2026-01-14T19:00:00-05:00', '613').allowed).toBe(true);
  });

  it('a non-geographic Canadian code is judged in every Canadian zone', () => {
    expect(blocked(at('2026-01-14T10:00:00-05:00', '600'))).toMatchObject({ ruleId: 'CA-CRTC-UTR' }); // 07:00 in Vancouver
    expect(at('2026-01-14T13:00:00-05:00', '600').allowed).toBe(true);
  });

  it('a Canadian number with a US zip meets both countries\' rules', () => {
    const loc = locateForCallingHours({ country: 'CA', areaCode: '416', zip: '10001' });
    expect(checkCallingHours({ now: new Date('2026-01-14T21:15:00-05:00'), ...loc })).toMatchObject({ allowed: false, ruleId: 'US-FED-TSR' });
  });
});

describe('numbers of countries we hold no rules for', () => {
  it.each([
    [{ country: 'GB' }],
    [{ country: 'JM', areaCode: '876' }], // a Caribbean NANP country
    [{ country: 'MX', zip: '10001' }], // a US zip does not make a foreign number a US one
  ])('%j is refused at every minute', (where) => {
    const loc = locateForCallingHours(where);
    expect(loc.countries).toEqual([]);
    for (const hour of ['03', '12', '19']) {
      expect(blocked(checkCallingHours({ now: new Date(`2026-01-14T${hour}:00:00-05:00`), ...loc }))).toMatchObject({ reason: 'country_not_covered' });
    }
  });
});

describe('area-code presumption: every state that claims the number', () => {
  const at = (iso: string, areaCode: string, zip?: string) => checkCallingHours({ now: new Date(iso), ...locateForCallingHours({ country: 'US', areaCode, zip }) });

  it('a Florida number with a New York zip is refused at 20:30 ET (Florida\'s 20:00 end)', () => {
    expect(blocked(at('2026-01-14T20:30:00-05:00', '813', '10001'))).toMatchObject({ reason: 'outside_calling_hours', ruleId: 'FL-501.616', timeZone: ET });
    expect(at('2026-01-14T19:59:00-05:00', '813', '10001').allowed).toBe(true);
  });

  it.each([
    ['an Oklahoma number with a Texas zip: Oklahoma\'s 20:00 end', '2026-01-14T20:30:00-06:00', '405', '75201', 'OK-775C.4'],
    ['a Connecticut number with a New York zip: Connecticut\'s 09:00 start', '2026-01-14T08:30:00-05:00', '203', '10001', 'CT-42-288a'],
    ['a New York number with a Florida zip: the zip\'s state too', '2026-01-14T20:30:00-05:00', '212', '33602', 'FL-501.616'],
    ['a Florida number with a California zip: California\'s zone too', '2026-01-14T08:30:00-05:00', '813', '90210', 'US-FED-TSR'],
  ])('%s', (_name, iso, npa, zip, ruleId) => {
    expect(blocked(at(iso, npa, zip))).toMatchObject({ ruleId });
  });
});

describe('rule start dates are the consumer\'s local date', () => {
  it('Connecticut\'s rule (from 2023-10-01) does not yet bind at 20:30 EDT on 30 September, already 1 October in UTC', () => {
    expect(check('2023-10-01T00:30:00Z', ['CT'], [ET]).allowed).toBe(true); // 2023-09-30 20:30 EDT
    expect(blocked(check('2023-10-02T00:30:00Z', ['CT'], [ET]))).toMatchObject({ ruleId: 'CT-42-288a', localTime: '2023-10-01 20:30 Sun' });
  });
});

describe('prerecorded-message calls', () => {
  it.each([
    ['OK 08:30', '2026-01-14T08:30:00-06:00', 'OK', CT, 'OK-755.1'],
    ['NV 08:30', '2026-01-14T08:30:00-08:00', 'NV', PT, 'NV-597.814'],
  ])('%s: a live call passes, a prerecorded one is refused', (_name, iso, state, zone, ruleId) => {
    expect(checkCallingHours({ now: new Date(iso), states: [state], timeZones: [zone] }).allowed).toBe(true);
    expect(checkCallingHours({ now: new Date(iso), states: [state], timeZones: [zone], callKind: 'live' }).allowed).toBe(true);
    expect(blocked(checkCallingHours({ now: new Date(iso), states: [state], timeZones: [zone], callKind: 'prerecorded' }))).toMatchObject({ ruleId });
  });
});
