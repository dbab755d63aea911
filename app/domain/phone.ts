/**
 * Caller numbers as switches hand them over, parsed on the hot path of every call.
 *
 * Numbers in the 50 states and DC (the bulk of the traffic) take a fast path: digit checks against the NANP rules
 * and our own table of assigned area codes, ~0.25 µs per call. Everything else (territories, Canada, the
 * Caribbean, toll-free, international) goes to libphonenumber-js, ~10 µs per call (both measured on Node 20).
 *
 * libphonenumber-js/max, not the default /min: /min lacks the digit patterns, so its isValid() only checks the
 * length; /max validates the digits too (what Google's libphonenumber does). The extra ~65 kB loads once.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { AREA_CODES } from './data/area-codes';

export type CallerParse =
  | { ok: true; e164: string; country: string; nationalNumber: string; areaCode?: string /* NANP numbers only: 3-digit NPA */ }
  | { ok: false; reason: 'anonymous' | 'empty' | 'malformed' | 'invalid'; detail: string };

/** What switches and carriers put in the caller ID when the number is withheld (compared lower-case). */
const ANONYMOUS = new Set([
  'anonymous',
  'anonymous caller',
  'restricted',
  'unavailable',
  'private',
  'private number',
  'unknown',
  'unknown caller',
  'withheld',
  'blocked',
  'no caller id',
  'out of area',
  'o', // ISDN/SS7 presentation code "out of area"
  'p', // ... and "private"
]);

/**
 * Territories take the slow path: libphonenumber knows which of their exchanges exist (VI, MP and AS have few),
 * and gives their own ISO 3166 country code. Their traffic is small.
 */
const TERRITORIES = new Set(['PR', 'VI', 'GU', 'MP', 'AS']);

/** Separators people and switches put between digits; anything else is malformed. */
const SEPARATORS = /[\s().\-]/g;

export function parseCaller(raw: string, defaultCountry: 'US' = 'US'): CallerParse {
  const s = raw.trim();
  if (s === '') return { ok: false, reason: 'empty', detail: 'no caller number' };
  if (ANONYMOUS.has(s.toLowerCase())) return { ok: false, reason: 'anonymous', detail: `caller ID "${s}"` };

  const compact = s.replace(SEPARATORS, '');
  if (!/^\+?\d+$/.test(compact)) return { ok: false, reason: 'malformed', detail: `not a phone number: "${clip(s)}"` };
  const plus = compact.startsWith('+');
  const digits = plus ? compact.slice(1) : compact;
  // "0000000000", "+10000000000", "0": the ways switches spell a withheld number in a digits-only field.
  if (/^1?0+$/.test(digits)) return { ok: false, reason: 'anonymous', detail: `caller ID "${s}"` };
  if (digits.length > 15) return { ok: false, reason: 'invalid', detail: `${digits.length} digits is longer than E.164 allows` };

  // NANP: +1 and 11 digits, or no + and 10 digits, or 11 digits with the trunk prefix 1.
  const national = plus
    ? digits.length === 11 && digits[0] === '1' ? digits.slice(1) : undefined
    : digits.length === 10 ? digits : digits.length === 11 && digits[0] === '1' ? digits.slice(1) : undefined;
  if (national !== undefined) {
    const problem = nanpProblem(national);
    if (problem) return { ok: false, reason: 'invalid', detail: problem };
    const npa = national.slice(0, 3);
    const us = AREA_CODES[npa];
    // An NPA assigned to a state or DC, and an NXX that passed the rules above: valid, no need for the slow path.
    // (We check NPA assignment, not whether the exchange is in service: no per-exchange data on the hot path.)
    if (us && !TERRITORIES.has(us.state)) return { ok: true, e164: `+1${national}`, country: 'US', nationalNumber: national, areaCode: npa };
  }
  return parseWithLibrary(plus ? compact : digits, defaultCountry, s);
}

/** E.164 for a number typed into a DNC list or a tracking-number form, or undefined when it is not a valid one. */
export function normalizeE164(raw: string): string | undefined {
  const p = parseCaller(raw);
  return p.ok ? p.e164 : undefined;
}

/**
 * NANP numbering rules (ATIS-0300076): NPA and NXX both NXX-form (first digit 2-9), NPA not N11 and not N9X
 * (reserved for expansion), NXX not N11 (service codes).
 * 555-0100..0199 is reserved for fiction and never assigned, but we leave it valid on purpose: the numbers are
 * well-formed, libphonenumber accepts them, and tests, demos and the switch peers use them as tracking numbers
 * and callers. A real call from that range is spoofed; that is the block list's and attestation's job.
 */
function nanpProblem(n: string): string | undefined {
  const npa = n.slice(0, 3);
  const nxx = n.slice(3, 6);
  if (n[0] < '2') return `area code ${npa} cannot start with ${n[0]}`;
  if (n[1] === '9') return `area code ${npa} is reserved (N9X)`;
  if (n[1] === '1' && n[2] === '1') return `area code ${npa} is a service code (N11)`;
  if (n[3] < '2') return `exchange ${nxx} cannot start with ${n[3]}`;
  if (n[4] === '1' && n[5] === '1') return `exchange ${nxx} is a service code (N11)`;
  return undefined;
}

function parseWithLibrary(input: string, defaultCountry: 'US', original: string): CallerParse {
  // Without a +, a switch hands us either a national number or an international one with the US exit code 011.
  const parsed = parsePhoneNumberFromString(input, { defaultCountry, extract: false });
  if (!parsed) return { ok: false, reason: 'invalid', detail: `cannot be read as a number: "${clip(original)}"` };
  if (!parsed.isValid()) return { ok: false, reason: 'invalid', detail: `"${clip(original)}" is not a valid number (read as ${parsed.number})` };
  const nationalNumber = String(parsed.nationalNumber);
  const country = parsed.country ?? (parsed.countryCallingCode === '1' ? 'US' : `+${parsed.countryCallingCode}`);
  return parsed.countryCallingCode === '1'
    ? { ok: true, e164: parsed.number, country, nationalNumber, areaCode: nationalNumber.slice(0, 3) }
    : { ok: true, e164: parsed.number, country, nationalNumber };
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
