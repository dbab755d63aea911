/**
 * Where a US consumer is, from their ZIP code or their phone number's area code: the candidate states and time
 * zones, for calling hours and geo targeting. Answers list every candidate (an area code that spans a zone line
 * gives two zones); callers that must be safe apply the strictest of them.
 * The tables are in ./data; both are indexed into Maps once, at load.
 */
import { AREA_CODES, AST, ET, CT, MT, AZ, PT, AK, ADAK, HI, SST, CHST } from './data/area-codes';
import { ZIP3, ZIP5_EXCEPTIONS, type Zip3Entry } from './data/zip3';
import { CANADIAN_AREA_CODES, CANADIAN_TIME_ZONES } from './data/ca-area-codes';

export interface ConsumerLocation {
  source: 'zip' | 'area_code' | 'unknown';
  states: string[]; // 2-letter USPS codes; >1 when ambiguous (e.g. an area code that spans states, or an overlay)
  timeZones: string[]; // IANA zones; >1 when ambiguous (e.g. a multi-zone state); never empty (unknown → all US zones)
}

interface Located {
  readonly states: readonly string[];
  readonly timeZones: readonly string[];
}

const byAreaCode = new Map<string, Located>();
for (const [npa, e] of Object.entries(AREA_CODES)) byAreaCode.set(npa, { states: [e.state], timeZones: e.zones });

const byZip3 = new Map<string, Located>();
for (const [key, e] of Object.entries(ZIP3)) {
  const [from, to = from] = key.split('-');
  for (let p = Number(from); p <= Number(to); p++) byZip3.set(String(p).padStart(3, '0'), located(e));
}

const zip5Exceptions = new Map<string, Located | null>();
for (const [zip, e] of Object.entries(ZIP5_EXCEPTIONS)) zip5Exceptions.set(zip, e && located(e));

/** Every zone either table can answer, Atlantic first, Guam last: the candidate set when nothing is known. */
export const US_TIME_ZONES: readonly string[] = Object.freeze(
  [...new Set([AST, ET, CT, MT, AZ, PT, AK, ADAK, HI, SST, CHST, ...[...byAreaCode.values(), ...byZip3.values()].flatMap((l) => l.timeZones)])],
);

export function locateByAreaCode(npa: string): { states: string[]; timeZones: string[] } | undefined {
  return copy(byAreaCode.get(npa));
}

/** 5-digit ZIP or ZIP+4 ("12345-6789" or "123456789"); located by its 3-digit prefix. */
export function locateByZip(zip: string): { states: string[]; timeZones: string[] } | undefined {
  const m = /^(\d{5})(?:-?\d{4})?$/.exec(zip.trim());
  if (!m) return undefined;
  const zip5 = m[1]!;
  const exception = zip5Exceptions.get(zip5);
  if (exception !== undefined) return copy(exception ?? undefined);
  return copy(byZip3.get(zip5.slice(0, 3)));
}

/** The ZIP wins when it locates anything (it is where the consumer lives); else the area code; else unknown. */
export function locateConsumer(input: { areaCode?: string; zip?: string }): ConsumerLocation {
  const byZip = input.zip ? locateByZip(input.zip) : undefined;
  if (byZip) return { source: 'zip', ...byZip };
  const byNpa = input.areaCode ? locateByAreaCode(input.areaCode) : undefined;
  if (byNpa) return { source: 'area_code', ...byNpa };
  return { source: 'unknown', states: [], timeZones: [...US_TIME_ZONES] };
}

function located(e: Zip3Entry): Located {
  return { states: e.states, timeZones: e.zones };
}

/** Fresh arrays, so a caller that sorts or pushes cannot corrupt the shared tables. */
function copy(l: Located | undefined): { states: string[]; timeZones: string[] } | undefined {
  return l && { states: [...l.states], timeZones: [...l.timeZones] };
}

/** The countries whose calling-hours rules the exchange holds (ISO 3166-1 alpha-2). */
export type RulesCountry = 'US' | 'CA';

/** Where the calling-hours rules look for a consumer: every jurisdiction that claims the number, not the likeliest. */
export interface CallingHoursLocation {
  /** Countries whose rules apply; empty when the number belongs to a country we hold no rules for. */
  countries: RulesCountry[];
  /** US states that claim the consumer (the area code's and the zip's); empty with 'US' in countries: unknown. */
  states: string[];
  /** Every candidate zone; never empty. */
  timeZones: string[];
  /** Canadian province of the area code, when it has one (for the trace). */
  province?: string;
}

/** A Canadian geographic area code: its province and zones. */
export function locateCanadianAreaCode(npa: string): { province: string; timeZones: string[] } | undefined {
  const e = CANADIAN_AREA_CODES[npa];
  return e && { province: e.province, timeZones: [...e.zones] };
}

/**
 * Every jurisdiction whose calling-hours rules claim a consumer, strictest reading: the area code's state or
 * province AND the zip's state, not one instead of the other. Florida (SB 1120 of 2021, amending Fla. Stat.
 * § 501.059), Oklahoma (HB 3168 of 2022) and Connecticut (Conn. Gen. Stat. § 42-288(c)) presume that a number
 * with an in-state area code belongs to a resident, so a Florida number with a New York zip is a Floridian for
 * Florida and a New Yorker for New York. The union is taken for every state, with or without such a statute: we
 * cannot tell which of the two the consumer is, and the stricter answer is the lawful one. Zones are the union too.
 * `country` is the number's country as parsed (parseCaller); a number of a country we hold no rules for
 * (outside the NANP, or a Caribbean NANP country) claims no country even with a US zip.
 */
export function locateForCallingHours(input: { country?: string; areaCode?: string; zip?: string }): CallingHoursLocation {
  const countries = new Set<RulesCountry>();
  const states: string[] = [];
  const zones = new Set<string>();
  let province: string | undefined;
  const add = (l: { states?: readonly string[]; timeZones: readonly string[] }, country: RulesCountry): void => {
    countries.add(country);
    for (const s of l.states ?? []) if (!states.includes(s)) states.push(s);
    for (const z of l.timeZones) zones.add(z);
  };

  const country = input.country ?? 'US';
  if (country !== 'US' && country !== 'CA' && !TERRITORY_COUNTRIES.has(country)) return { countries: [], states: [], timeZones: [...US_TIME_ZONES] };
  const npa = input.areaCode;
  const us = npa ? byAreaCode.get(npa) : undefined;
  const ca = npa && !us ? locateCanadianAreaCode(npa) : undefined;
  if (us) add(us, 'US');
  else if (ca) {
    add(ca, 'CA');
    province = ca.province;
  } else if (country === 'CA') add({ timeZones: CANADIAN_TIME_ZONES }, 'CA'); // non-geographic Canadian code
  const byZip = input.zip ? locateByZip(input.zip) : undefined;
  if (byZip) add(byZip, 'US');
  if (countries.size === 0) return { countries: ['US'], states: [], timeZones: [...US_TIME_ZONES] }; // a US number we cannot place
  return { countries: [...countries], states, timeZones: [...zones], ...(province ? { province } : {}) };
}

/** libphonenumber's country codes for the US territories: their numbers follow US rules. */
const TERRITORY_COUNTRIES = new Set(['PR', 'VI', 'GU', 'MP', 'AS']);
