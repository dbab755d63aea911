import type { Campaign } from './model';
import type { CallerParse } from './phone';
import type { CallingHoursVerdict } from './calling-hours';
import { consentPredatesReassignment, registryKindFor, type ListFacts, type RegistryFreshness } from './lists';

/** Each compliance rule has a stable name that appears in traces, audit entries and API errors. */
export type ScreenReason =
  | 'invalid_caller'
  | 'anonymous_caller'
  | 'blocked_caller'
  | 'dnc_global'
  | 'dnc_campaign'
  | 'dnc_registry'
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
  rule: 'caller' | 'blocked' | 'dnc' | 'calling_hours' | 'consent' | 'attestation' | 'registry_freshness' | 'reassigned' | 'litigator';
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
  dnc: { global: boolean; campaign: boolean; registry: boolean };
  blocked: boolean;
  /** Whether a live consent record exists; only asked for campaigns that require consent. */
  consent: boolean;
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
    else checks.push({ rule: 'dnc', pass: true });
    const r = facts.registry;
    if (input.direction === 'outbound' && r) {
      checks.push(r.fresh ? { rule: 'registry_freshness', pass: true, detail: `${r.kind} copy ${r.ageDays} days old` } : { rule: 'registry_freshness', pass: false, reason: 'dnc_registry_stale', detail: r.detail });
    }
    if (campaign.requireConsent) {
      checks.push(facts.consent ? { rule: 'consent', pass: true } : { rule: 'consent', pass: false, reason: 'no_consent', detail: 'campaign requires a consent record' });
      const l = facts.lists;
      if (input.direction === 'outbound' && facts.consent && l && consentPredatesReassignment(l.consentAtMs, l.disconnectedOnMs)) {
        const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
        checks.push({ rule: 'reassigned', pass: false, reason: 'number_reassigned', detail: `consent of ${day(l.consentAtMs!)}, number disconnected ${day(l.disconnectedOnMs!)} (RND)` });
      }
    }
    if (campaign.blockLitigators) {
      checks.push(facts.lists?.litigator ? { rule: 'litigator', pass: false, reason: 'litigator', detail: 'number is on a TCPA litigator list' } : { rule: 'litigator', pass: true });
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
