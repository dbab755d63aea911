import type { Account, BuyerTarget, Schedule, Targeting } from './model';
import { localParts, type LocalParts } from './local-time';

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

/**
 * Shared verdicts: judging a thousand targets per call must not allocate a thousand objects or strings.
 * The common exclusions carry no per-target detail: the consumer's location and the time are in the trace once.
 */
const ELIGIBLE: TargetVerdict = Object.freeze({ eligible: true });
const excluded = (reason: ExclusionReason): TargetVerdict => Object.freeze({ eligible: false, reason });
const GEO_UNKNOWN = excluded('geo_unknown');
const GEO_STATE = excluded('geo_state');
const GEO_AREA_CODE = excluded('geo_area_code');
const GEO_ZIP = excluded('geo_zip');
const SCHEDULE_CLOSED = excluded('schedule_closed');
const TARGET_INACTIVE = excluded('target_inactive');
const BUYER_INACTIVE = excluded('buyer_inactive');

/** Geography: a restriction the consumer's location cannot be shown to meet excludes the target. */
export function matchTargeting(t: Targeting, geo: ConsumerGeo): TargetVerdict {
  if (t.states?.length || t.excludeStates?.length) {
    if (geo.states.length === 0) return GEO_UNKNOWN;
    if (t.states?.length && !geo.states.some((s) => t.states!.includes(s))) return GEO_STATE;
    // An ambiguous location that might be in an excluded state is excluded: the buyer said no to that state.
    if (t.excludeStates?.length && geo.states.some((s) => t.excludeStates!.includes(s))) return GEO_STATE;
  }
  if (t.areaCodes?.length && (!geo.areaCode || !t.areaCodes.includes(geo.areaCode))) return GEO_AREA_CODE;
  if (t.zips?.length) {
    const zip5 = geo.zip?.slice(0, 5);
    if (!zip5 || !t.zips.includes(zip5)) return GEO_ZIP;
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
  return scheduleOpenAt(schedule, local) ? ELIGIBLE : SCHEDULE_CLOSED;
}

/** Whether the schedule is open at a local weekday and minute (of its own zone). */
export function scheduleOpenAt(schedule: Schedule, local: Pick<LocalParts, 'weekday' | 'minuteOfDay'>): boolean {
  const intervals = schedule.hours[local.weekday];
  return intervals?.some(([start, end]) => local.minuteOfDay >= start && local.minuteOfDay < end) === true;
}

/** A buyer must be able to pay its bid from balance plus credit. */
export function hasFunds(account: Account, bidCents: number): boolean {
  return account.balanceCents + account.creditLimitCents >= bidCents;
}

/**
 * What can be decided about a target from the config alone (activity, destination, floor, funds): the same
 * for every call until the config changes, so the snapshot judges it once.
 */
export function judgeTargetStatic(target: BuyerTarget, buyer: Account | undefined, floorCents: number): TargetVerdict {
  if (!target.active) return TARGET_INACTIVE;
  if (!buyer || !buyer.active) return BUYER_INACTIVE;
  if (!target.destination) return { eligible: false, reason: 'no_destination', detail: 'target has no destination' };
  if (target.bidCents < floorCents) {
    return { eligible: false, reason: 'below_floor', detail: `bid ${target.bidCents} < floor ${floorCents}` };
  }
  if (!hasFunds(buyer, target.bidCents)) {
    return { eligible: false, reason: 'insufficient_funds', detail: `available ${buyer.balanceCents + buyer.creditLimitCents} < bid ${target.bidCents}` };
  }
  return ELIGIBLE;
}

/** An RTB target is pinged when it and its buyer are active; its answer's amount, destination and funds are judged per call. */
export function rtbMayBid(target: BuyerTarget, buyer: Account | undefined): boolean {
  return target.active && buyer !== undefined && buyer.active;
}

/**
 * What depends on the call: the consumer's location and the time (the buyer's open hours). The call path answers
 * this for all of a campaign's targets at once through TargetIndex (target-index.ts); these per-target functions
 * are the rules' definition, which the index is property-tested against.
 */
export function judgeTargetForCall(target: BuyerTarget, geo: ConsumerGeo, now: Date): TargetVerdict {
  const geoVerdict = matchTargeting(target.targeting, geo);
  if (!geoVerdict.eligible) return geoVerdict;
  return isScheduleOpen(target.schedule, now);
}

/**
 * Everything that can be decided about one target without Redis: activity, destination, floor, funds,
 * geography and schedule, in that order (cheapest first). Caps are reserved afterwards, atomically in Redis.
 */
export function judgeTarget(target: BuyerTarget, buyer: Account | undefined, geo: ConsumerGeo, floorCents: number, now: Date): TargetVerdict {
  const fixed = judgeTargetStatic(target, buyer, floorCents);
  return fixed.eligible ? judgeTargetForCall(target, geo, now) : fixed;
}
