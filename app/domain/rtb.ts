/**
 * Real-time bidding, the pure parts (issue 15): what a ping tells a buyer, what makes its answer a bid, and the
 * per-buyer circuit breaker's state machine. No I/O; time is passed in. The HTTP side is app/exchange/rtb-pinger.ts.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { BuyerTarget, Campaign, RtbShareField } from './model';
import { normalizeE164 } from './phone';
import { parseDestination } from './destination';
import { localParts } from './local-time';

/** The call as the exchange knows it at decision time; a ping carries only what the campaign shares. */
export interface RtbCallFacts {
  callId: string;
  e164: string;
  areaCode?: string;
  states: string[];
  zip?: string;
  timeZones: string[];
  attestation?: 'A' | 'B' | 'C';
  /** the caller called this campaign before (within RTB_REPEAT_WINDOW_DAYS); looked up only when shared */
  repeatCaller?: boolean;
  now: Date;
}

/** The body of a ping, less the target id (one body per call, the target id added per buyer). */
export interface RtbPingBody {
  /** the exchange's id for this call; the same in every ping of the call */
  callId: string;
  campaignId: string;
  /** milliseconds the buyer has to answer, counted from when the exchange sent the ping */
  tmax: number;
  call: {
    areaCode?: string;
    /** hex sha256 of salt + ':' + the caller's E.164 number */
    callerHash?: string;
    states?: string[];
    zip?: string;
    /** the consumer's wall-clock time, YYYY-MM-DDTHH:MM, when the location has one time zone */
    localTime?: string;
    timeZone?: string;
    attestation?: 'A' | 'B' | 'C';
    repeatCaller?: boolean;
  };
}

/** The facts the campaign shares, and nothing else. `salt` empty: the hashed number is never sent. */
export function rtbPingBody(campaign: Campaign, facts: RtbCallFacts, salt: string): RtbPingBody {
  const share = campaign.rtbShare ?? [];
  const call: RtbPingBody['call'] = {};
  const has = (f: RtbShareField) => share.includes(f);
  if (has('areaCode') && facts.areaCode) call.areaCode = facts.areaCode;
  if (has('callerHash') && salt) call.callerHash = callerHash(facts.e164, salt);
  if (has('state') && facts.states.length > 0) call.states = facts.states;
  if (has('zip') && facts.zip) call.zip = facts.zip;
  if (has('localTime') && facts.timeZones.length === 1) {
    const zone = facts.timeZones[0]!;
    const p = localParts(facts.now, zone);
    call.localTime = `${p.date}T${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
    call.timeZone = zone;
  }
  if (has('attestation') && facts.attestation) call.attestation = facts.attestation;
  if (has('repeatCaller') && facts.repeatCaller !== undefined) call.repeatCaller = facts.repeatCaller;
  return { callId: facts.callId, campaignId: campaign.id, tmax: campaign.bidDeadlineMs, call };
}

/** A buyer can recognise a caller it saw before without learning the number (as long as it cannot guess the salt). */
export function callerHash(e164: string, salt: string): string {
  return createHash('sha256').update(`${salt}:${e164}`).digest('hex');
}

/** A buyer's answer. bidCents 0 (or HTTP 204) is "no bid". Unknown keys are ignored. */
export const RtbAnswer = z.object({
  bidCents: z.number().int().min(0),
  destination: z.string().min(1).max(300).optional(),
  expiresInSeconds: z.number().int().min(1).max(86_400).optional(),
});

export type RtbVerdict =
  | { kind: 'bid'; bidCents: number; destination: string; expiresInSeconds?: number }
  | { kind: 'no_bid' }
  | { kind: 'invalid'; detail: string };

/**
 * Whether a buyer's answer (the parsed JSON) is a bid this target may make: the schema, the amount within the
 * target's RTB bounds, and a destination (its own or the target's) that destination.ts accepts.
 */
export function judgeRtbAnswer(raw: unknown, target: Pick<BuyerTarget, 'destination' | 'rtb'>): RtbVerdict {
  const parsed = RtbAnswer.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: 'invalid', detail: `${issue.path.join('.') || 'answer'}: ${issue.message}` };
  }
  const a = parsed.data;
  if (a.bidCents === 0) return { kind: 'no_bid' };
  const min = target.rtb?.minBidCents;
  const max = target.rtb?.maxBidCents;
  if (min !== undefined && a.bidCents < min) return { kind: 'invalid', detail: `bidCents ${a.bidCents} is under the target's minimum ${min}` };
  if (max !== undefined && a.bidCents > max) return { kind: 'invalid', detail: `bidCents ${a.bidCents} is over the target's maximum ${max}` };
  let destination = target.destination;
  if (a.destination !== undefined) {
    const candidate = normalizeE164(a.destination) ?? a.destination;
    const check = parseDestination(candidate);
    if (!check.ok) return { kind: 'invalid', detail: `destination: ${check.reason}` };
    destination = check.kind === 'number' ? check.e164 : candidate;
  }
  if (!destination) return { kind: 'invalid', detail: 'no destination: the answer names none and the target has none' };
  return { kind: 'bid', bidCents: a.bidCents, destination, ...(a.expiresInSeconds !== undefined ? { expiresInSeconds: a.expiresInSeconds } : {}) };
}

/**
 * When a real-time bid that says how long it stands stops standing, counted from when its ping was sent: the buyer
 * made the bid after that, so the exchange never dials a bid the buyer's own clock has already let go.
 */
export function rtbBidExpiresAtMs(pingSentAtMs: number, expiresInSeconds: number | undefined): number | undefined {
  return expiresInSeconds === undefined ? undefined : pingSentAtMs + expiresInSeconds * 1000;
}

/** Whether a bid no longer stands at `nowMs` (to be checked when it is about to be dialled); a bid without an expiry stands for its call. */
export function bidExpired(bid: { expiresAtMs?: number }, nowMs: number): boolean {
  return bid.expiresAtMs !== undefined && nowMs >= bid.expiresAtMs;
}

// ---- circuit breaker -------------------------------------------------------------------------------------------

export interface BreakerSettings {
  /** consecutive timeouts or errors that open the breaker */
  failures: number;
  /** how long an open breaker refuses pings before it lets one trial through */
  coolOffMs: number;
}

export interface BreakerState {
  consecutiveFailures: number;
  /** set while open (and half-open): when it opened */
  openedAtMs?: number;
  /** half-open: the one trial ping is out */
  trialInFlight: boolean;
}

export type BreakerPhase = 'closed' | 'open' | 'half_open';

export const newBreaker = (): BreakerState => ({ consecutiveFailures: 0, trialInFlight: false });

export function breakerPhase(s: BreakerState, nowMs: number, cfg: BreakerSettings): BreakerPhase {
  if (s.openedAtMs === undefined) return 'closed';
  return nowMs - s.openedAtMs >= cfg.coolOffMs ? 'half_open' : 'open';
}

/** May a ping go out now? A half-open breaker lets exactly one through (marked in the state) until it is judged. */
export function breakerAllows(s: BreakerState, nowMs: number, cfg: BreakerSettings): boolean {
  const phase = breakerPhase(s, nowMs, cfg);
  if (phase === 'closed') return true;
  if (phase === 'open' || s.trialInFlight) return false;
  s.trialInFlight = true;
  return true;
}

/** A ping's outcome: an answer in time closes the breaker; a timeout or error counts toward opening it. */
export function breakerRecord(s: BreakerState, ok: boolean, nowMs: number, cfg: BreakerSettings): void {
  const wasTrial = s.trialInFlight;
  s.trialInFlight = false;
  if (ok) {
    s.consecutiveFailures = 0;
    s.openedAtMs = undefined;
    return;
  }
  s.consecutiveFailures++;
  // A failed trial re-opens for another cool-off; enough failures in a row open a closed breaker.
  if (wasTrial || (s.openedAtMs === undefined && s.consecutiveFailures >= cfg.failures)) s.openedAtMs = nowMs;
}
