/**
 * How often a seller may call one consumer about one subject (issue 14, feature 1). Pure: the states that claim the
 * consumer's number and the time are passed in.
 *
 * State rules (each needs a lawyer's review of the current text before relying on it; the figures below are the
 * statutes' as enacted):
 *   FL  Fla. Stat. § 501.616(6)(b) (SB 1120, in force 1 July 2021): no more than three commercial telephone
 *       solicitation calls from any number to a person over a 24-hour period on the same subject matter or issue.
 *   OK  Okla. Stat. tit. 15, § 775C.4 (Telephone Solicitation Act of 2022, HB 3168, in force 1 November 2022):
 *       the same three calls per 24 hours on the same subject matter or issue.
 *   MD  Md. Code, Com. Law § 14-4503 (Stop the Spam Calls Act of 2023, SB 90 / HB 37, in force 1 January 2024):
 *       the same three calls per 24 hours on the same subject matter or issue.
 * A rule's start is the local midnight of its first day in the state (an instant with the state's offset), not the
 * UTC date.
 *
 * The platform's default (set by the operator) applies to every consumer on top of the state rules; the strictest
 * limit for each window wins. Only outbound calls count and are limited: an inbound call is the consumer calling.
 */

export interface FrequencyRule {
  id: string;
  states: readonly string[];
  /** calls allowed within the window; the next one is refused */
  limit: number;
  windowHours: number;
  /** the first instant the rule binds (local midnight of the day it took effect) */
  inForceFrom: string;
  citation: string;
}

export const STATE_FREQUENCY_RULES: readonly FrequencyRule[] = [
  { id: 'FL-501.616(6)(b)', states: ['FL'], limit: 3, windowHours: 24, inForceFrom: '2021-07-01T00:00:00-04:00', citation: 'Fla. Stat. § 501.616(6)(b)' },
  { id: 'OK-775C.4', states: ['OK'], limit: 3, windowHours: 24, inForceFrom: '2022-11-01T00:00:00-05:00', citation: 'Okla. Stat. tit. 15, § 775C.4' },
  { id: 'MD-14-4503', states: ['MD'], limit: 3, windowHours: 24, inForceFrom: '2024-01-01T00:00:00-05:00', citation: 'Md. Code, Com. Law § 14-4503 (Stop the Spam Calls Act of 2023)' },
];

/** The operator's platform-wide limit (0 calls: none), from OUTBOUND_FREQUENCY_LIMIT / _WINDOW_HOURS. */
export interface FrequencyDefault {
  limit: number;
  windowHours: number;
}

/** What "the same subject" means for counting: every campaign of the seller (the stricter reading), or one campaign. */
export type FrequencySubject = 'seller' | 'campaign';

export interface FrequencyPolicy {
  platformDefault: FrequencyDefault;
  subject: FrequencySubject;
}

export const DEFAULT_FREQUENCY_POLICY: FrequencyPolicy = { platformDefault: { limit: 3, windowHours: 24 }, subject: 'seller' };

/** One limit in force for a call: at most `limit` calls in any `windowSec`, and where it comes from. */
export interface FrequencyLimit {
  limit: number;
  windowSec: number;
  source: string;
}

/**
 * The limits in force for an outbound call to a consumer claimed by `states` at `now`: for each window length, the
 * strictest of the state rules in force and the platform default. Sorted by window, shortest first.
 */
export function frequencyLimitsFor(p: { states: readonly string[]; now: Date; policy: FrequencyPolicy }): FrequencyLimit[] {
  const byWindow = new Map<number, FrequencyLimit>();
  const consider = (l: FrequencyLimit): void => {
    const held = byWindow.get(l.windowSec);
    if (!held || l.limit < held.limit) byWindow.set(l.windowSec, l);
  };
  const t = p.now.getTime();
  for (const rule of STATE_FREQUENCY_RULES) {
    if (t < Date.parse(rule.inForceFrom)) continue;
    if (rule.states.some((s) => p.states.includes(s))) consider({ limit: rule.limit, windowSec: rule.windowHours * 3600, source: rule.citation });
  }
  const d = p.policy.platformDefault;
  if (d.limit > 0 && d.windowHours > 0) consider({ limit: d.limit, windowSec: d.windowHours * 3600, source: 'platform default' });
  return [...byWindow.values()].sort((a, b) => a.windowSec - b.windowSec);
}

/** How long a consumer's call times must be kept: the longest window any call may be judged by. */
export function frequencyRetentionSec(policy: FrequencyPolicy): number {
  const windows = STATE_FREQUENCY_RULES.map((r) => r.windowHours * 3600);
  if (policy.platformDefault.limit > 0) windows.push(policy.platformDefault.windowHours * 3600);
  return Math.max(...windows);
}

/** The subject a call is counted under: the campaign's seller, or the campaign itself. */
export function frequencySubjectOf(campaign: { id: string; sellerAccountId: string }, subject: FrequencySubject): string {
  return subject === 'seller' ? `seller:${campaign.sellerAccountId}` : `campaign:${campaign.id}`;
}

/** The verdict screening reports: within the limits, or the limit the call would break. */
export type FrequencyVerdict = { allowed: true } | { allowed: false; limit: FrequencyLimit };
