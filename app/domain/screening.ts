import type { Campaign } from './model';
import type { CallerParse } from './phone';
import type { CallingHoursVerdict } from './calling-hours';
import type { FrequencyVerdict } from './frequency-limits';
import { consentPredatesReassignment, registryKindFor, type ListFacts, type RegistryFreshness } from './lists';

/** Each compliance rule has a stable name that appears in traces, audit entries and API errors. */
export type ScreenReason =
  | 'invalid_caller'
  | 'anonymous_caller'
  | 'blocked_caller'
  | 'dnc_global'
  | 'dnc_campaign'
  | 'dnc_registry'
  | 'dnc_seller'
  | 'frequency_limited'
  | 'outside_calling_hours'
  | 'day_barred'
  | 'holiday_barred'
  | 'country_not_covered'
  | 'no_consent'
  | 'attestation_required'
  | 'dnc_registry_stale'
  | 'number_reassigned'
  | 'litigator';

export interface ScreenCheck {
  rule: 'caller' | 'blocked' | 'dnc' | 'calling_hours' | 'consent' | 'attestation' | 'frequency' | 'registry_freshness' | 'reassigned' | 'litigator';
  pass: boolean;
  reason?: ScreenReason;
  detail?: string;
}

export interface ScreenResult {
  pass: boolean;
  /** Every rule that ran, passed or not: the audit log keeps all of them. */
  checks: ScreenCheck[];
  /** The failing reasons, most fundamental first. */
  reasons: ScreenReason[];
}

/** What the I/O side found out about the caller before screening (Redis lookups, calling-hours check). */
export interface ScreenFacts {
  /** seller: the seller's internal DNC list (consumers who revoked consent); it binds outbound calls only. */
  dnc: { global: boolean; campaign: boolean; registry: boolean; seller?: boolean };
  blocked: boolean;
  /** Whether a live, unexpired consent record exists; only asked when consent is required (consentRequired). */
  consent: boolean;
  /** Outbound calls only: whether the per-consumer frequency limits admit one more call (counted if so). */
  frequency?: FrequencyVerdict;
  /** Only for calls the exchange places to consumers (outbound). */
  callingHours?: CallingHoursVerdict;
  /** The national registry, RND and litigator lists; absent: nothing listed. */
  lists?: ListFacts;
  /** Outbound only: whether the registry copy the number was screened against is fresh (judgeRegistryCopy). */
  registry?: RegistryFreshness;
}

export interface ScreenInput {
  caller: CallerParse;
  campaign: Campaign;
  direction: 'inbound' | 'outbound';
  attestation?: 'A' | 'B' | 'C';
  facts: ScreenFacts;
}

/** The caller-number rule on its own: run first, since DNC and consent need a valid number to look up. */
export function screenCallerNumber(caller: CallerParse): ScreenCheck {
  if (caller.ok) return { rule: 'caller', pass: true };
  if (caller.reason === 'anonymous' || caller.reason === 'empty') {
    return { rule: 'caller', pass: false, reason: 'anonymous_caller', detail: caller.detail };
  }
  return { rule: 'caller', pass: false, reason: 'invalid_caller', detail: caller.detail };
}

export function attestationSatisfies(required: 'A' | 'B' | undefined, got: 'A' | 'B' | 'C' | undefined): boolean {
  if (!required) return true;
  if (required === 'A') return got === 'A';
  return got === 'A' || got === 'B';
}

/**
 * Whether a call needs the consumer's consent on record: an outbound (marketing) call does unless an admin exempted
 * its campaign; an inbound call only when the campaign requires it (the consumer called).
 */
export function consentRequired(campaign: Pick<Campaign, 'requireConsent' | 'outboundConsentExempt'>, direction: 'inbound' | 'outbound'): boolean {
  return campaign.requireConsent || (direction === 'outbound' && !campaign.outboundConsentExempt);
}

/** All compliance rules for one call. Pure: every fact it needs was looked up before. */
export function screenCall(input: ScreenInput): ScreenResult {
  const checks: ScreenCheck[] = [screenCallerNumber(input.caller)];
  const { facts, campaign } = input;
  if (input.caller.ok) {
    checks.push(facts.blocked ? { rule: 'blocked', pass: false, reason: 'blocked_caller', detail: 'number is on the block list' } : { rule: 'blocked', pass: true });
    if (facts.dnc.global) checks.push({ rule: 'dnc', pass: false, reason: 'dnc_global', detail: 'platform DNC list' });
    else if (facts.dnc.campaign) checks.push({ rule: 'dnc', pass: false, reason: 'dnc_campaign', detail: `campaign ${campaign.id} DNC list` });
    else if (facts.dnc.registry) checks.push({ rule: 'dnc', pass: false, reason: 'dnc_registry', detail: 'imported registry list' });
    else if (facts.lists?.national) checks.push({ rule: 'dnc', pass: false, reason: 'dnc_registry', detail: `national registry copy (${registryKindFor(input.caller.country) ?? 'us'})` });
    else if (facts.dnc.seller && input.direction === 'outbound') checks.push({ rule: 'dnc', pass: false, reason: 'dnc_seller', detail: `seller ${campaign.sellerAccountId} internal DNC list (consent revoked)` });
    else checks.push({ rule: 'dnc', pass: true });
    const r = facts.registry;
    if (input.direction === 'outbound' && r) {
      checks.push(r.fresh ? { rule: 'registry_freshness', pass: true, detail: `${r.kind} copy ${r.ageDays} days old` } : { rule: 'registry_freshness', pass: false, reason: 'dnc_registry_stale', detail: r.detail });
    }
    if (consentRequired(campaign, input.direction)) {
      const detail = input.direction === 'outbound' && !campaign.requireConsent ? 'outbound calls require a live consent record' : 'campaign requires a consent record';
      checks.push(facts.consent ? { rule: 'consent', pass: true } : { rule: 'consent', pass: false, reason: 'no_consent', detail });
      const l = facts.lists;
      if (input.direction === 'outbound' && facts.consent && l && consentPredatesReassignment(l.consentAtMs, l.disconnectedOnMs)) {
        const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
        checks.push({ rule: 'reassigned', pass: false, reason: 'number_reassigned', detail: `consent of ${day(l.consentAtMs!)}, number disconnected ${day(l.disconnectedOnMs!)} (RND)` });
      }
    }
    if (campaign.blockLitigators) {
      checks.push(facts.lists?.litigator ? { rule: 'litigator', pass: false, reason: 'litigator', detail: 'number is on a TCPA litigator list' } : { rule: 'litigator', pass: true });
    }
    if (input.direction === 'outbound' && facts.frequency) {
      const f = facts.frequency;
      checks.push(f.allowed ? { rule: 'frequency', pass: true } : { rule: 'frequency', pass: false, reason: 'frequency_limited', detail: `${f.limit.limit} calls per ${f.limit.windowSec / 3600} h reached (${f.limit.source})` });
    }
  }
  if (input.direction === 'outbound' && facts.callingHours) {
    const v = facts.callingHours;
    checks.push(v.allowed ? { rule: 'calling_hours', pass: true } : { rule: 'calling_hours', pass: false, reason: v.reason, detail: `${v.ruleId} ${v.localTime} ${v.timeZone}: ${v.detail}` });
  }
  if (campaign.minAttestation) {
    const ok = attestationSatisfies(campaign.minAttestation, input.attestation);
    checks.push(ok ? { rule: 'attestation', pass: true } : { rule: 'attestation', pass: false, reason: 'attestation_required', detail: `requires ${campaign.minAttestation}, got ${input.attestation ?? 'none'}` });
  }
  const reasons = checks.filter((c) => !c.pass).map((c) => c.reason!);
  return { pass: reasons.length === 0, checks, reasons };
}
