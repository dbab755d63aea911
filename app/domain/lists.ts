/**
 * The rules of the purchased compliance lists (issue 14, features 3-5), pure: the facts come from Redis, the
 * time is passed in.
 *  - National DNC registry freshness: the FTC's Telemarketing Sales Rule (16 CFR 310.4(b)(3)(iv)) and the FCC's
 *    47 CFR 64.1200(c)(2)(i)(D) allow a seller the registry safe harbor only when it uses a copy of the registry
 *    obtained no more than 31 days before the call; the CRTC's Unsolicited Telecommunications Rules (Part II, 6)
 *    ask the same of the National DNCL for Canadian numbers.
 *  - Reassigned numbers: 47 CFR 64.1200(m) (the RND safe harbor): consent given before a number was permanently
 *    disconnected was given by someone else.
 */

/** Which national registry applies to a number: the FTC registry (US and its territories) or Canada's DNCL. */
export type RegistryKind = 'us' | 'ca';

export const REGISTRY_KINDS: readonly RegistryKind[] = ['us', 'ca'];

/** What screening knows of the registry copy a number was checked against. */
export interface RegistryCopy {
  /** 00:00 UTC of the date the registry issued the copy */
  registryDateMs: number;
  /** whether the copy covers the number's area code (a copy names the area codes it was downloaded for, or all) */
  coversNumber: boolean;
}

const DAY_MS = 86_400_000;
const US_COUNTRIES = new Set(['US', 'PR', 'VI', 'GU', 'MP', 'AS']);

/** The registry a number is screened against, from its ISO country; undefined outside the US and Canada. */
export function registryKindFor(country: string): RegistryKind | undefined {
  if (US_COUNTRIES.has(country)) return 'us';
  if (country === 'CA') return 'ca';
  return undefined;
}

/** Whole days since the copy's date (a copy of today is 0 days old). */
export function registryAgeDays(registryDateMs: number, nowMs: number): number {
  return Math.floor((nowMs - registryDateMs) / DAY_MS);
}

/** The oldest registry date that is still fresh at `nowMs` (as registryAgeDays counts): an older copy is stale. */
export function oldestFreshRegistryDateMs(nowMs: number, maxAgeDays: number): number {
  return nowMs - (maxAgeDays + 1) * DAY_MS + 1;
}

/** Whether a copy covering `areaCodes` (empty: every area code) covers a number's area code. */
export function copyCovers(areaCodes: readonly string[], areaCode: string | undefined): boolean {
  return areaCodes.length === 0 || (areaCode !== undefined && areaCodes.includes(areaCode));
}

/**
 * What the purchased lists say of a number (looked up in the screening round trip). Only what a rule of the call
 * can use is looked up; the rest reads as absent.
 */
export interface ListFacts {
  /** on the current copy of its national registry */
  national: boolean;
  /** that registry's current copy, if any (outbound calls) */
  registryCopy?: RegistryCopy;
  /** the last permanent disconnection the RND reported (ms, 00:00 UTC of the date; outbound calls that need consent) */
  disconnectedOnMs?: number;
  /** the latest live consent for the campaign (ms; only when the RND reports a disconnection) */
  consentAtMs?: number;
  /** on an imported TCPA litigator or complainer list (campaigns that block litigators) */
  litigator: boolean;
}

export const NO_LIST_FACTS: ListFacts = { national: false, litigator: false };

export type RegistryFreshness =
  | { fresh: true; kind: RegistryKind; ageDays: number }
  | { fresh: false; kind: RegistryKind; why: 'missing' | 'stale' | 'area_code_not_covered'; detail: string };

/**
 * Whether a number's screening used a registry copy recent enough (and covering its area code). `required`: a
 * number with no copy of its registry at all counts as unscreened (stale); off, such a call is let through.
 */
export function judgeRegistryCopy(p: { kind: RegistryKind; copy: RegistryCopy | undefined; areaCode?: string; nowMs: number; maxAgeDays: number; required: boolean }): RegistryFreshness | undefined {
  const { kind, copy } = p;
  const name = kind === 'us' ? 'national DNC registry' : 'Canadian National DNCL';
  if (!copy) return p.required ? { fresh: false, kind, why: 'missing', detail: `no ${name} copy imported` } : undefined;
  const ageDays = registryAgeDays(copy.registryDateMs, p.nowMs);
  const date = new Date(copy.registryDateMs).toISOString().slice(0, 10);
  if (ageDays > p.maxAgeDays) return { fresh: false, kind, why: 'stale', detail: `${name} copy of ${date} is ${ageDays} days old (at most ${p.maxAgeDays})` };
  if (!copy.coversNumber) {
    return { fresh: false, kind, why: 'area_code_not_covered', detail: `${name} copy of ${date} does not cover area code ${p.areaCode ?? '(none)'}` };
  }
  return { fresh: true, kind, ageDays };
}

/**
 * Whether a consent predates the number's last permanent disconnection (the number has changed hands since).
 * A disconnection on the consent's own day counts as after it: the RND reports dates, not times, and the safe
 * reading is that the consenting person may already have lost the number.
 */
export function consentPredatesReassignment(consentAtMs: number | undefined, disconnectedOnMs: number | undefined): boolean {
  if (consentAtMs === undefined || disconnectedOnMs === undefined) return false;
  return Math.floor(consentAtMs / DAY_MS) * DAY_MS <= disconnectedOnMs;
}
