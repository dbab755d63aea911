/**
 * Where a US consumer is, from their ZIP code or their phone number's area code: the candidate states and time
 * zones, for calling hours and geo targeting. Answers list every candidate (an area code that spans a zone line
 * gives two zones); callers that must be safe apply the strictest of them.
 * The tables are in ./data; both are indexed into Maps once, at load.
 */
import { AREA_CODES, AST, ET, CT, MT, AZ, PT, AK, ADAK, HI, SST, CHST } from './data/area-codes';
import { ZIP3, ZIP5_EXCEPTIONS, type Zip3Entry } from './data/zip3';

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
