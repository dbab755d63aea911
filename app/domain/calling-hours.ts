/**
 * When the exchange may place a call to a consumer: federal and state telemarketing calling-hours rules.
 *
 * Strictest wins. A call is allowed only if, for every candidate time zone and every rule that applies (the
 * national rules of each candidate country, plus each candidate US state; every state rule when the state is
 * unknown), the consumer's local time is inside the rule's window and the day is neither barred nor one of the
 * rule's holidays. We do not know which candidate state goes with which zone, so every applicable rule is checked
 * in every zone. Candidates come from geo.ts `locateForCallingHours` (the area code's and the zip's jurisdictions).
 * A rule's start date is compared with the consumer's local date in each zone.
 * A number of a country we hold no rules for (outside the US and Canada) is refused at every minute.
 *
 * NOT LEGAL ADVICE. The rules below come from the statutes and regulations cited on each, read on `reviewedOn`
 * through public copies; several need a lawyer's reading (see the comments marked "review"). Exemptions (consent,
 * established business relationship) are ignored on purpose: a stricter answer never breaks the law. Louisiana's
 * state-of-emergency ban and other temporary orders are not modelled here: they need a runtime switch.
 */
import { localParts, type LocalParts, type Weekday } from './local-time';
import { US_TIME_ZONES, type RulesCountry } from './geo';

export type HolidayName =
  | 'new_years_day'
  | 'battle_of_new_orleans' // LA, Jan 8
  | 'mlk_day' // 3rd Monday of January (AL, MS: also Robert E. Lee's birthday)
  | 'robert_e_lee_day' // LA, Jan 19
  | 'washingtons_birthday' // 3rd Monday of February
  | 'mardi_gras' // 47 days before Easter (LA; AL in Baldwin and Mobile counties)
  | 'good_friday'
  | 'confederate_memorial_day' // AL: 4th Monday of April
  | 'ri_independence_day' // RI, May 4
  | 'memorial_day' // last Monday of May
  | 'jefferson_davis_birthday' // AL: 1st Monday of June
  | 'flag_day' // PA, June 14
  | 'juneteenth'
  | 'independence_day'
  | 'pioneer_day' // UT, July 24
  | 'victory_day' // RI: 2nd Monday of August
  | 'labor_day' // 1st Monday of September
  | 'columbus_day' // 2nd Monday of October
  | 'all_saints_day' // LA, Nov 1
  | 'election_day' // Tuesday after the 1st Monday of November, every year (RI's is even years only: stricter)
  | 'veterans_day'
  | 'thanksgiving' // 4th Thursday of November
  | 'christmas';

export interface CallingHoursRule {
  id: string; // e.g. 'US-FED-TSR', 'FL-501.616'
  /** Whose rule: its country's national rule when equal to `country`, else a 2-letter US state code. */
  country: RulesCountry;
  jurisdiction: string; // 'US' for US federal, 'CA' for Canada's national rules (country 'CA'), else a US state
  /** Only for calls of this kind (e.g. prerecorded-message calls); absent: every call. */
  callKind?: CallKind;
  /**
   * A fixed-offset zone the statute states its hours in (Mississippi: Central Standard Time). The window and
   * barred days are checked in this zone as well as in the consumer's local time, so the stricter of the two wins.
   */
  statedIn?: string;
  /** Allowed window per weekday, in local minutes [start, end); a weekday missing from the map means no calls that day. */
  windows: Partial<Record<0 | 1 | 2 | 3 | 4 | 5 | 6, { start: number; end: number }>>;
  barsHolidays: boolean; // no calls on the state's listed holidays
  holidays?: HolidayName[]; // which holidays it bars
  source: string; // statute / regulation citation (and URL where known)
  effectiveFrom: string; // YYYY-MM-DD
  reviewedOn: string; // YYYY-MM-DD: when we last checked this rule
}

/** What kind of call the rules are asked about: 'prerecorded' calls also meet the rules kept for them alone. */
export type CallKind = 'live' | 'prerecorded';

export interface CallingHoursInput {
  now: Date;
  /** Candidate US states; empty (with 'US' among the countries) means unknown: every state rule applies. */
  states: string[];
  /** Candidate zones; empty means every US zone. */
  timeZones: string[];
  /** Countries whose rules apply (default ['US']); empty: a country we hold no rules for, refused at every minute. */
  countries?: readonly RulesCountry[];
  /** Default 'live': rules kept for prerecorded calls do not apply. */
  callKind?: CallKind;
}

export type CallingHoursVerdict =
  | { allowed: true }
  | {
      allowed: false;
      reason: 'outside_calling_hours' | 'day_barred' | 'holiday_barred' | 'country_not_covered';
      ruleId: string;
      timeZone: string;
      localTime: string /* e.g. '2026-03-08 20:15 Sun' */;
      detail: string;
    };

type Window = { start: number; end: number };

const at = (hour: number, minute = 0): number => hour * 60 + minute;
const EVERY_DAY: readonly Weekday[] = [0, 1, 2, 3, 4, 5, 6];
const MON_SAT: readonly Weekday[] = [1, 2, 3, 4, 5, 6];
const MON_FRI: readonly Weekday[] = [1, 2, 3, 4, 5];
const WEEKEND: readonly Weekday[] = [0, 6];

/** Central Standard Time all year (UTC-6; the IANA sign is inverted), for statutes that state their hours in CST. */
export const CENTRAL_STANDARD_TIME = 'Etc/GMT+6';

function on(days: readonly Weekday[], start: number, end: number): Partial<Record<Weekday, Window>> {
  const w: Partial<Record<Weekday, Window>> = {};
  for (const d of days) w[d] = { start, end };
  return w;
}

const REVIEWED = '2026-11-24';
/** Rules added or corrected after the 40-case review of issue 14 (windows and citations as that review gives them). */
const REVIEWED_ISSUE_14 = '2026-12-07';

export const CALLING_HOURS_RULES: readonly CallingHoursRule[] = Object.freeze([
  {
    id: 'US-FED-TSR',
    country: 'US',
    jurisdiction: 'US',
    windows: on(EVERY_DAY, at(8), at(21)),
    barsHolidays: false,
    source: '47 CFR 64.1200(c)(1) (TCPA, https://www.ecfr.gov/current/title-47/section-64.1200); 16 CFR 310.4(c) (TSR, https://www.ecfr.gov/current/title-16/section-310.4)',
    effectiveFrom: '1992-12-20',
    reviewedOn: REVIEWED,
  },
  {
    // Review: the rule's text governs "automated solicitation telephone calls" and the PSC's rules bind carriers;
    // industry practice applies it to all solicitation calls, and so do we. Holidays: Ala. Code § 1-3-8.
    id: 'AL-770-X-5-.17',
    country: 'US',
    jurisdiction: 'AL',
    windows: on(MON_SAT, at(8), at(20)),
    barsHolidays: true,
    holidays: [
      'new_years_day', 'mlk_day', 'washingtons_birthday', 'mardi_gras', 'confederate_memorial_day', 'memorial_day',
      'jefferson_davis_birthday', 'juneteenth', 'independence_day', 'labor_day', 'columbus_day', 'veterans_day',
      'thanksgiving', 'christmas',
    ],
    source: 'Ala. Admin. Code r. 770-X-5-.17(1)(b): no solicitation calls on Sundays or holidays, none before 8 a.m. or after 8 p.m.; holidays per Ala. Code § 1-3-8',
    effectiveFrom: '2004-01-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED,
  },
  {
    // Review: public summaries disagree on the evening limit (8 p.m. vs 9 p.m.) after P.A. 23-98; we apply 8 p.m.
    id: 'CT-42-288a',
    country: 'US',
    jurisdiction: 'CT',
    windows: on(EVERY_DAY, at(9), at(20)),
    barsHolidays: false,
    source: 'Conn. Gen. Stat. § 42-288a as amended by P.A. 23-98 (https://www.cga.ct.gov/current/pub/chap_743m.htm)',
    effectiveFrom: '2023-10-01',
    reviewedOn: REVIEWED,
  },
  {
    // The hours are in § 501.616(6)(a) (Florida Telemarketing Act); § 501.059 (Telephone Solicitation Act, as
    // amended by SB 1120 of 2021) bars calls outside them too and carries the area-code presumption (geo.ts).
    id: 'FL-501.616',
    country: 'US',
    jurisdiction: 'FL',
    windows: on(EVERY_DAY, at(8), at(20)),
    barsHolidays: false,
    source: 'Fla. Stat. § 501.616(6)(a) (no commercial telephone solicitation call before 8 a.m. or after 8 p.m. at the called person\'s location)',
    effectiveFrom: '2021-07-01',
    reviewedOn: REVIEWED_ISSUE_14,
  },
  {
    // Review: compliance charts list 10 a.m.-9 p.m. for Kentucky; we could not read the operative subsection.
    id: 'KY-367.46955',
    country: 'US',
    jurisdiction: 'KY',
    windows: on(EVERY_DAY, at(10), at(21)),
    barsHolidays: false,
    source: 'Ky. Rev. Stat. § 367.46955 (prohibited telephone solicitation acts)',
    effectiveFrom: '2003-01-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED,
  },
  {
    // Review: the PSC says only its own list of holidays applies; we bar the wider La. R.S. 1:55 list (stricter).
    id: 'LA-R-29617',
    country: 'US',
    jurisdiction: 'LA',
    windows: on(MON_SAT, at(8), at(20)),
    barsHolidays: true,
    holidays: [
      'new_years_day', 'battle_of_new_orleans', 'mlk_day', 'robert_e_lee_day', 'washingtons_birthday', 'mardi_gras',
      'good_friday', 'memorial_day', 'juneteenth', 'independence_day', 'labor_day', 'columbus_day', 'all_saints_day',
      'veterans_day', 'thanksgiving', 'christmas',
    ],
    source: 'La. PSC General Order R-29617 § V(A)(2) (no calls on Sunday, legal holidays, or 8 p.m.-8 a.m.); La. R.S. 45:811; holidays La. R.S. 1:55',
    effectiveFrom: '2008-01-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED,
  },
  {
    id: 'MA-159C-3',
    country: 'US',
    jurisdiction: 'MA',
    windows: on(EVERY_DAY, at(8), at(20)),
    barsHolidays: false,
    source: 'Mass. Gen. Laws ch. 159C § 3 (no unsolicited telephonic sales call between 8 p.m. and 8 a.m.)',
    effectiveFrom: '2003-04-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED,
  },
  {
    id: 'MD-14-4503',
    country: 'US',
    jurisdiction: 'MD',
    windows: on(EVERY_DAY, at(8), at(20)),
    barsHolidays: false,
    source: 'Md. Code, Com. Law § 14-4501 et seq. (Stop the Spam Calls Act of 2023): solicitations only 8 a.m.-8 p.m.',
    effectiveFrom: '2024-01-01',
    reviewedOn: REVIEWED,
  },
  {
    // Review: subsection cited from memory of the statute; charts agree on 9 a.m.-9 p.m.
    id: 'MI-445.111c',
    country: 'US',
    jurisdiction: 'MI',
    windows: on(EVERY_DAY, at(9), at(21)),
    barsHolidays: false,
    source: 'Mich. Comp. Laws § 445.111c(1)(f) (Home Solicitation Sales Act, am. 2002 PA 612): no solicitation between 9 p.m. and 9 a.m.',
    effectiveFrom: '2003-03-31',
    reviewedOn: REVIEWED,
  },
  {
    // Review: the statute governs calls using automatic dialing-announcing devices; applied to all calls (stricter).
    id: 'MN-325E.27',
    country: 'US',
    jurisdiction: 'MN',
    windows: on(EVERY_DAY, at(9), at(21)),
    barsHolidays: false,
    source: 'Minn. Stat. § 325E.27 (calls only between 9 a.m. and 9 p.m.)',
    effectiveFrom: '1990-01-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED,
  },
  {
    // Holidays are no longer barred: the PSC repealed 39 Miss. Admin. Code Pt. 1, R. 1:28 when enforcement moved to
    // the Attorney General (HB 1225 of 2023); the AG's office confirmed Sundays only (reported June 2024). Review.
    // "CST": the statute states its hours in Central Standard Time. Read as the consumer's Central wall clock, the
    // window would be 8-8 CDT in summer; read literally (UTC-6 all year), 9 a.m.-9 p.m. CDT. We apply both
    // (statedIn), the strictest reading: 8 a.m.-8 p.m. in winter, 9 a.m.-8 p.m. CDT from March to November.
    id: 'MS-77-3-723',
    country: 'US',
    jurisdiction: 'MS',
    windows: on(MON_SAT, at(8), at(20)),
    statedIn: CENTRAL_STANDARD_TIME,
    barsHolidays: false,
    source: 'Miss. Code Ann. § 77-3-723 (telephone solicitations only 8 a.m.-8 p.m. Central Standard Time, none on Sunday)',
    effectiveFrom: '2003-07-01',
    reviewedOn: REVIEWED_ISSUE_14,
  },
  {
    // Review: read from public summaries of the Unfair Practices Act, not an official copy of the subsection.
    id: 'NM-57-12-22',
    country: 'US',
    jurisdiction: 'NM',
    windows: on(EVERY_DAY, at(9), at(21)),
    barsHolidays: false,
    source: 'N.M. Stat. § 57-12-22(B)(5) (Unfair Practices Act: no telephone solicitation before 9 a.m. or after 9 p.m.)',
    effectiveFrom: '2003-06-20', // in force by this date; exact date not verified
    reviewedOn: REVIEWED_ISSUE_14,
  },
  {
    id: 'OK-755.1',
    country: 'US',
    jurisdiction: 'OK',
    callKind: 'prerecorded',
    windows: on(EVERY_DAY, at(9), at(21)),
    barsHolidays: false,
    source: 'Okla. Stat. tit. 15, § 755.1 (calls delivering a prerecorded message only between 9 a.m. and 9 p.m.)',
    effectiveFrom: '1990-01-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED_ISSUE_14,
  },
  {
    id: 'NV-597.814',
    country: 'US',
    jurisdiction: 'NV',
    callKind: 'prerecorded',
    windows: on(EVERY_DAY, at(9), at(21)),
    barsHolidays: false,
    source: 'Nev. Rev. Stat. § 597.814 (prerecorded-message calls only between 9 a.m. and 9 p.m.)',
    effectiveFrom: '1990-01-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED_ISSUE_14,
  },
  {
    id: 'OK-775C.4',
    country: 'US',
    jurisdiction: 'OK',
    windows: on(EVERY_DAY, at(8), at(20)),
    barsHolidays: false,
    source: 'Okla. Stat. tit. 15, § 775C.4 (Telephone Solicitation Act of 2022)',
    effectiveFrom: '2022-11-01',
    reviewedOn: REVIEWED,
  },
  {
    id: 'PA-2245',
    country: 'US',
    jurisdiction: 'PA',
    windows: on(EVERY_DAY, at(8), at(21)),
    barsHolidays: true,
    holidays: [
      'new_years_day', 'mlk_day', 'washingtons_birthday', 'good_friday', 'memorial_day', 'flag_day', 'independence_day',
      'labor_day', 'columbus_day', 'election_day', 'veterans_day', 'thanksgiving', 'christmas',
    ],
    source: '73 P.S. § 2245(a) (Telemarketer Registration Act, am. Act 73 of 2019: no telephone solicitation calls on legal holidays); holidays 44 P.S. § 11',
    effectiveFrom: '2019-12-03',
    reviewedOn: REVIEWED,
  },
  {
    id: 'RI-5-61-3.6',
    country: 'US',
    jurisdiction: 'RI',
    windows: { 1: { start: at(9), end: at(18) }, 2: { start: at(9), end: at(18) }, 3: { start: at(9), end: at(18) },
      4: { start: at(9), end: at(18) }, 5: { start: at(9), end: at(18) }, 6: { start: at(10), end: at(17) } },
    barsHolidays: true,
    holidays: [
      'new_years_day', 'mlk_day', 'washingtons_birthday', 'ri_independence_day', 'memorial_day', 'juneteenth',
      'independence_day', 'victory_day', 'labor_day', 'columbus_day', 'election_day', 'veterans_day', 'thanksgiving',
      'christmas',
    ],
    source: 'R.I. Gen. Laws § 5-61-3.6 and § 5-61-2 ("hours of operation": Mon-Fri except state or federal holidays 9 a.m.-6 p.m., Sat 10 a.m.-5 p.m.); holidays § 25-1-1',
    effectiveFrom: '1999-07-01', // P.L. 1999, ch. 456; exact date not verified
    reviewedOn: REVIEWED,
  },
  {
    id: 'TX-301.051',
    country: 'US',
    jurisdiction: 'TX',
    windows: { ...on(MON_SAT, at(9), at(21)), 0: { start: at(12), end: at(21) } },
    barsHolidays: false,
    source: 'Tex. Bus. & Com. Code § 301.051 (9 a.m.-9 p.m. weekdays and Saturday; noon-9 p.m. Sunday)',
    effectiveFrom: '2009-04-01',
    reviewedOn: REVIEWED,
  },
  {
    id: 'UT-13-25a-103',
    country: 'US',
    jurisdiction: 'UT',
    windows: on(MON_SAT, at(8), at(21)),
    barsHolidays: true,
    holidays: [
      'new_years_day', 'mlk_day', 'washingtons_birthday', 'memorial_day', 'juneteenth', 'independence_day',
      'pioneer_day', 'labor_day', 'columbus_day', 'veterans_day', 'thanksgiving', 'christmas',
    ],
    source: 'Utah Code § 13-25a-103(3) (not 9 p.m.-8 a.m., on a Sunday, or on a legal holiday without prior express consent); holidays § 63G-1-301',
    effectiveFrom: '2004-05-03', // in force by this date; exact date not verified
    reviewedOn: REVIEWED,
  },
  {
    id: 'WA-19.158.040',
    country: 'US',
    jurisdiction: 'WA',
    windows: on(EVERY_DAY, at(8), at(20)),
    barsHolidays: false,
    source: 'Rev. Code Wash. § 19.158.040(2) (Commercial Telephone Solicitation Act: no calls before 8 a.m. or after 8 p.m.)',
    effectiveFrom: '1990-01-01', // in force by this date; exact date not verified
    reviewedOn: REVIEWED_ISSUE_14,
  },
  {
    // Canada: the national Telemarketing Rules bind every telemarketing call to a Canadian consumer, in the
    // consumer's local time. Weekends are Saturday and Sunday; statutory holidays are not barred.
    id: 'CA-CRTC-UTR',
    country: 'CA',
    jurisdiction: 'CA',
    windows: { ...on(MON_FRI, at(9), at(21, 30)), ...on(WEEKEND, at(10), at(18)) },
    barsHolidays: false,
    source: 'CRTC Unsolicited Telecommunications Rules, Part III Telemarketing Rules (Telecom Decision CRTC 2007-48, https://crtc.gc.ca/eng/trules-reglest.htm): 9:00 a.m.-9:30 p.m. weekdays, 10:00 a.m.-6:00 p.m. weekends, consumer\'s local time',
    effectiveFrom: '2008-09-30',
    reviewedOn: REVIEWED_ISSUE_14,
  },
] satisfies CallingHoursRule[]);

export function checkCallingHours(input: CallingHoursInput, rules: readonly CallingHoursRule[] = CALLING_HOURS_RULES): CallingHoursVerdict {
  const zones = input.timeZones.length > 0 ? input.timeZones : US_TIME_ZONES;
  const countries = input.countries ?? ['US'];
  if (countries.length === 0) {
    const timeZone = zones[0]!;
    const t = localParts(input.now, timeZone);
    return { allowed: false, reason: 'country_not_covered', ruleId: 'NO-RULES', timeZone, localTime: stamp(t), detail: 'no calling-hours rules are held for the number\'s country' };
  }
  const anyState = input.states.length === 0;
  const kind = input.callKind ?? 'live';
  for (const rule of rules) {
    if (!countries.includes(rule.country)) continue;
    if (rule.callKind && rule.callKind !== kind) continue;
    const national = rule.jurisdiction === rule.country;
    if (!national && !anyState && !input.states.includes(rule.jurisdiction)) continue;
    for (const timeZone of rule.statedIn ? [...zones, rule.statedIn] : zones) {
      const t = localParts(input.now, timeZone);
      if (rule.effectiveFrom > t.date) continue; // the consumer's date, not UTC's
      const block = judge(rule, t);
      if (block) return { allowed: false, ...block, ruleId: rule.id, timeZone, localTime: stamp(t) };
    }
  }
  return { allowed: true };
}

const stamp = (t: LocalParts): string => `${t.date} ${hhmm(t.minuteOfDay)} ${DAY[t.weekday]}`;

function judge(rule: CallingHoursRule, t: LocalParts): { reason: 'outside_calling_hours' | 'day_barred' | 'holiday_barred'; detail: string } | undefined {
  const w = rule.windows[t.weekday];
  if (!w) return { reason: 'day_barred', detail: `${rule.id} bars calls on ${DAY[t.weekday]}` };
  if (rule.barsHolidays) {
    const holiday = holidayOn(rule, t.year, t.date);
    if (holiday) return { reason: 'holiday_barred', detail: `${rule.id} bars calls on ${holiday}` };
  }
  if (t.minuteOfDay < w.start || t.minuteOfDay >= w.end) {
    return { reason: 'outside_calling_hours', detail: `${rule.id} allows ${hhmm(w.start)}-${hhmm(w.end)} on ${DAY[t.weekday]}` };
  }
  return undefined;
}

const DAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The rule's barred dates per local year, observed days included; computed once per rule and year. */
const barredDates = new WeakMap<CallingHoursRule, Map<number, Map<string, string>>>();

function holidayOn(rule: CallingHoursRule, year: number, date: string): string | undefined {
  let byYear = barredDates.get(rule);
  if (!byYear) barredDates.set(rule, (byYear = new Map()));
  let dates = byYear.get(year);
  if (!dates) byYear.set(year, (dates = barredDatesFor(rule.holidays ?? [], year)));
  return dates.get(date);
}

/**
 * A holiday bars its own date and the weekday it is observed on: Friday before and Monday after one that falls on
 * a Saturday (states differ on which, so both), Monday after one that falls on a Sunday. Neighbouring years are
 * included because New Year's Day on a Saturday is observed on December 31.
 */
function barredDatesFor(names: readonly HolidayName[], year: number): Map<string, string> {
  const out = new Map<string, string>();
  const observed: [string, string][] = [];
  for (const y of [year - 1, year, year + 1]) {
    const dates = usHolidays(y);
    for (const name of names) {
      const date = dates[name];
      out.set(date, name);
      const day = epochDay(date);
      const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday
      if (weekday === 6) observed.push([isoDate(day - 1), `${name} (observed)`], [isoDate(day + 2), `${name} (observed)`]);
      if (weekday === 0) observed.push([isoDate(day + 1), `${name} (observed)`]);
    }
  }
  for (const [date, label] of observed) if (!out.has(date)) out.set(date, label);
  return out;
}

/** Every holiday any rule can bar, for one year (the actual date, not the observed one). Pure. */
export function usHolidays(year: number): Record<HolidayName, string> {
  const easter = easterSunday(year);
  const fixed = (month: number, day: number): string => isoDate(epochDay(year, month, day));
  const firstMondayOfNovember = nthWeekday(year, 11, 1, 1);
  return {
    new_years_day: fixed(1, 1),
    battle_of_new_orleans: fixed(1, 8),
    mlk_day: isoDate(nthWeekday(year, 1, 1, 3)),
    robert_e_lee_day: fixed(1, 19),
    washingtons_birthday: isoDate(nthWeekday(year, 2, 1, 3)),
    mardi_gras: isoDate(easter - 47),
    good_friday: isoDate(easter - 2),
    confederate_memorial_day: isoDate(nthWeekday(year, 4, 1, 4)),
    ri_independence_day: fixed(5, 4),
    memorial_day: isoDate(lastWeekday(year, 5, 1)),
    jefferson_davis_birthday: isoDate(nthWeekday(year, 6, 1, 1)),
    flag_day: fixed(6, 14),
    juneteenth: fixed(6, 19),
    independence_day: fixed(7, 4),
    pioneer_day: fixed(7, 24),
    victory_day: isoDate(nthWeekday(year, 8, 1, 2)),
    labor_day: isoDate(nthWeekday(year, 9, 1, 1)),
    columbus_day: isoDate(nthWeekday(year, 10, 1, 2)),
    all_saints_day: fixed(11, 1),
    election_day: isoDate(firstMondayOfNovember + 1),
    veterans_day: fixed(11, 11),
    thanksgiving: isoDate(nthWeekday(year, 11, 4, 4)),
    christmas: fixed(12, 25),
  };
}

// Calendar arithmetic in whole days since 1970-01-01 (UTC, so no zone or DST can interfere).

function epochDay(yearOrIso: number | string, month = 1, day = 1): number {
  if (typeof yearOrIso === 'string') {
    const [y, m, d] = yearOrIso.split('-').map(Number);
    return Date.UTC(y!, m! - 1, d!) / 86_400_000;
  }
  return Date.UTC(yearOrIso, month - 1, day) / 86_400_000;
}

function isoDate(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** The n-th given weekday (0 = Sunday) of a month. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  const first = epochDay(year, month, 1);
  return first + ((weekday - ((first + 4) % 7) + 7) % 7) + 7 * (n - 1);
}

function lastWeekday(year: number, month: number, weekday: number): number {
  const last = epochDay(year, month + 1, 1) - 1; // Date.UTC rolls month 13 over to January
  return last - ((((last + 4) % 7) - weekday + 7) % 7);
}

/** Gregorian Easter Sunday (the anonymous "Meeus/Jones/Butcher" algorithm). */
function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return epochDay(year, month, day);
}
