import type { Account, BuyerTarget, Schedule, Targeting } from './model';
import { localParts } from './local-time';

/** Where the consumer is, as far as targeting can tell (zip beats area code). */
export interface ConsumerGeo {
  states: string[];
  areaCode?: string;
  zip?: string;
}

export type ExclusionReason =
  | 'target_inactive'
  | 'buyer_inactive'
  | 'no_destination'
  | 'geo_state'
  | 'geo_area_code'
  | 'geo_zip'
  | 'geo_unknown'
  | 'schedule_closed'
  | 'schedule_invalid'
  | 'insufficient_funds'
  | 'below_floor';

export type TargetVerdict = { eligible: true } | { eligible: false; reason: ExclusionReason; detail?: string };

/** Shared: judging a thousand targets per call should not allocate a thousand "yes" objects. */
const ELIGIBLE: TargetVerdict = Object.freeze({ eligible: true });

/** Geography: a restriction the consumer's location cannot be shown to meet excludes the target. */
export function matchTargeting(t: Targeting, geo: ConsumerGeo): TargetVerdict {
  if (t.states?.length || t.excludeStates?.length) {
    if (geo.states.length === 0) return { eligible: false, reason: 'geo_unknown', detail: 'consumer state unknown' };
    if (t.states?.length && !geo.states.some((s) => t.states!.includes(s))) {
      return { eligible: false, reason: 'geo_state', detail: `consumer in ${geo.states.join('/')}` };
    }
    // An ambiguous location that might be in an excluded state is excluded: the buyer said no to that state.
    if (t.excludeStates?.length && geo.states.some((s) => t.excludeStates!.includes(s))) {
      return { eligible: false, reason: 'geo_state', detail: `consumer may be in excluded ${geo.states.join('/')}` };
    }
  }
  if (t.areaCodes?.length) {
    if (!geo.areaCode || !t.areaCodes.includes(geo.areaCode)) {
      return { eligible: false, reason: 'geo_area_code', detail: `area code ${geo.areaCode ?? 'unknown'}` };
    }
  }
  if (t.zips?.length) {
    const zip5 = geo.zip?.slice(0, 5);
    if (!zip5 || !t.zips.includes(zip5)) return { eligible: false, reason: 'geo_zip', detail: `zip ${zip5 ?? 'unknown'}` };
  }
  return ELIGIBLE;
}

/** Open hours in the buyer's own zone; no schedule means always open. */
export function isScheduleOpen(schedule: Schedule | undefined, now: Date): TargetVerdict {
  if (!schedule) return ELIGIBLE;
  let local;
  try {
    local = localParts(now, schedule.timeZone);
  } catch {
    return { eligible: false, reason: 'schedule_invalid', detail: `unknown time zone ${schedule.timeZone}` };
  }
  const intervals = schedule.hours[local.weekday];
  if (intervals?.some(([start, end]) => local.minuteOfDay >= start && local.minuteOfDay < end)) return ELIGIBLE;
  return { eligible: false, reason: 'schedule_closed', detail: `closed at ${local.date} ${pad(local.hour)}:${pad(local.minute)} ${schedule.timeZone}` };
}

/** A buyer must be able to pay its bid from balance plus credit. */
export function hasFunds(account: Account, bidCents: number): boolean {
  return account.balanceCents + account.creditLimitCents >= bidCents;
}

/**
 * Everything that can be decided about one target without Redis: activity, destination, floor, funds,
 * geography and schedule, in that order (cheapest first). Caps are reserved afterwards, atomically in Redis.
 */
export function judgeTarget(
  target: BuyerTarget,
  buyer: Account | undefined,
  geo: ConsumerGeo,
  floorCents: number,
  now: Date,
): TargetVerdict {
  if (!target.active) return { eligible: false, reason: 'target_inactive' };
  if (!buyer || !buyer.active) return { eligible: false, reason: 'buyer_inactive' };
  if (!target.destination) return { eligible: false, reason: 'no_destination', detail: 'target has no destination' };
  if (target.bidCents < floorCents) {
    return { eligible: false, reason: 'below_floor', detail: `bid ${target.bidCents} < floor ${floorCents}` };
  }
  if (!hasFunds(buyer, target.bidCents)) {
    return { eligible: false, reason: 'insufficient_funds', detail: `available ${buyer.balanceCents + buyer.creditLimitCents} < bid ${target.bidCents}` };
  }
  const geoVerdict = matchTargeting(target.targeting, geo);
  if (!geoVerdict.eligible) return geoVerdict;
  return isScheduleOpen(target.schedule, now);
}

const pad = (n: number): string => String(n).padStart(2, '0');
