/**
 * Fraud scoring: each rule looks at facts about one call (gathered by the fraud worker) and adds points with a
 * named reason; a score at or above the block threshold blocks the caller, and a seller whose traffic turns
 * anomalous has the tracking number paused. Pure and table-tested; thresholds come from config.
 */

export interface FraudRules {
  /** a score at or above this blocks the caller (or pauses the number, for seller anomalies) */
  blockScore: number;
  velocityPerMinute: number;
  velocityPerHour: number;
  velocityPerDay: number;
  /** a bridged call shorter than this (billable seconds) is "very short" */
  shortCallSec: number;
  /** calls to this many different sellers within a day from one caller look like a robocaller */
  repeatSellers: number;
  /** a seller whose share of very short calls in the last hour reaches this (0..1), over at least `sellerMinCalls` */
  sellerShortShare: number;
  sellerMinCalls: number;
}

export const DEFAULT_FRAUD_RULES: FraudRules = {
  blockScore: 70,
  velocityPerMinute: 5,
  velocityPerHour: 30,
  velocityPerDay: 100,
  shortCallSec: 5,
  repeatSellers: 3,
  sellerShortShare: 0.5,
  sellerMinCalls: 20,
};

export interface FraudFacts {
  /** 'screening' when the call was decided, 'ended' when it was over */
  stage: 'screening' | 'ended';
  ani: string;
  dnis: string;
  /** the caller number parsed as a valid number */
  aniValid: boolean;
  attestation?: 'A' | 'B' | 'C';
  /** calls screened from this ANI, this one included */
  callsLastMinute: number;
  callsLastHour: number;
  callsLastDay: number;
  /** distinct sellers this ANI called in the last day, this one included */
  sellersLastDay: number;
  /** ended stage only */
  bridged?: boolean;
  billableSec?: number;
  /** the seller's calls in the last hour and how many of them were very short (ended stage) */
  sellerCallsLastHour?: number;
  sellerShortCallsLastHour?: number;
}

export type FraudReason =
  | 'velocity_minute'
  | 'velocity_hour'
  | 'velocity_day'
  | 'repeat_across_sellers'
  | 'spoofed_ani'
  | 'attestation_c'
  | 'no_attestation'
  | 'very_short_call'
  | 'seller_short_calls';

export interface FraudScore {
  score: number;
  reasons: FraudReason[];
  /** what to do about it */
  action: 'none' | 'block_caller' | 'pause_number';
}

const POINTS: Record<FraudReason, number> = {
  velocity_minute: 70,
  velocity_hour: 50,
  velocity_day: 40,
  repeat_across_sellers: 30,
  spoofed_ani: 40,
  attestation_c: 15,
  no_attestation: 10,
  very_short_call: 10,
  seller_short_calls: 70,
};

/** Numbers no subscriber has: all one digit, a straight run, or the dialled number itself. */
export function looksSpoofed(ani: string, dnis: string, valid: boolean): boolean {
  if (!valid) return true;
  const digits = ani.replace(/\D/g, '');
  const local = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  if (/^(\d)\1+$/.test(local.slice(3))) return true; // 202-555-5555 style: the line part one digit
  if ('0123456789'.includes(local.slice(3)) || '9876543210'.includes(local.slice(3))) return true;
  return digits === dnis.replace(/\D/g, '');
}

export function scoreCall(f: FraudFacts, rules: FraudRules): FraudScore {
  const reasons: FraudReason[] = [];
  if (f.callsLastMinute > rules.velocityPerMinute) reasons.push('velocity_minute');
  else if (f.callsLastHour > rules.velocityPerHour) reasons.push('velocity_hour');
  else if (f.callsLastDay > rules.velocityPerDay) reasons.push('velocity_day');
  if (f.sellersLastDay >= rules.repeatSellers) reasons.push('repeat_across_sellers');
  if (looksSpoofed(f.ani, f.dnis, f.aniValid)) reasons.push('spoofed_ani');
  if (f.attestation === 'C') reasons.push('attestation_c');
  else if (f.attestation === undefined) reasons.push('no_attestation');
  if (f.stage === 'ended' && f.bridged && (f.billableSec ?? 0) < rules.shortCallSec) reasons.push('very_short_call');
  const sellerAnomaly =
    f.stage === 'ended' &&
    (f.sellerCallsLastHour ?? 0) >= rules.sellerMinCalls &&
    (f.sellerShortCallsLastHour ?? 0) / (f.sellerCallsLastHour ?? 1) >= rules.sellerShortShare;
  if (sellerAnomaly) reasons.push('seller_short_calls');
  const raw = reasons.reduce((sum, r) => sum + POINTS[r], 0);
  const score = Math.min(100, raw);
  // The caller is blocked when it scores high enough on its own; otherwise a seller anomaly pauses the number.
  const callerOnly = sellerAnomaly ? raw - POINTS.seller_short_calls : raw;
  let action: FraudScore['action'] = 'none';
  if (callerOnly >= rules.blockScore) action = 'block_caller';
  else if (score >= rules.blockScore) action = 'pause_number';
  return { score, reasons, action };
}
