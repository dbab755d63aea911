/**
 * The Redis side of screening: DNC lists, the caller block list and consent (read by screen-and-reserve.ts).
 * Keys (under the deployment's prefix):
 *   dnc:global            set of E.164 numbers: the platform's internal DNC list
 *   dnc:campaign:<id>     set: one campaign's DNC list
 *   dnc:registry          set: numbers from imported registry lists (federal/state DNC scrubs)
 *   dnc:seller:<id>       set: a seller's internal DNC list (consumers who revoked consent; binds outbound calls)
 *   blocked               set: callers blocked for fraud or abuse
 *   consent-until:<campaignId>  sorted set: numbers with a live consent record for the campaign, scored by the
 *                         latest expiry (ms) among their live records; a score in the past is no consent
 *   consent-since:<campaignId>  hash number -> the latest live consent's time (ms), for the reassignment check
 *   freq:<subject>:<number>  sorted set: the consumer's outbound calls on a subject (seller:<id> or campaign:<id>),
 *                         call id scored by the time (ms) it was placed; kept for the longest window, then trimmed
 *   freq-loaded           marker: the call counts were rebuilt from Postgres's calls (absent after a Redis restart)
 *   dnc:national:<kind>   set: the current copy of a national registry (us: FTC registry, ca: Canada's DNCL)
 *   dnc:national:meta     hash kind -> "<copy date ms>|<,area,codes,>" of the current copy (registry-copies.ts)
 *   rnd:disconnected      hash number -> last permanent disconnection (ms, 00:00 UTC) from RND results
 *   litigators            set: numbers on an imported TCPA litigator or complainer list
 *   compliance:loaded:v2  marker: the copy is complete (absent after a Redis restart, or from a copy of another shape)
 * Postgres holds the records of truth (dnc_entries, blocked_numbers, consent_records); every writer updates both.
 */
import type { FrequencyVerdict } from '../domain/frequency-limits';
import type { ListFacts, RegistryKind } from '../domain/lists';

export type { ListFacts };

/**
 * Set once the Redis copy has been loaded from Postgres; a Redis that lost its data has no marker. Its name changes
 * with the copy's shape (v2: consent became sorted sets scored by expiry, `consent-until:<id>`), so a deployment
 * that changes the shape finds no marker and loads the new copy at once instead of screening against empty keys.
 */
export const COMPLIANCE_LOADED_KEY = 'compliance:loaded:v2';

/** Set once the consumers' outbound call counts were rebuilt from the recorded calls (store/frequency-repo.ts). */
export const FREQUENCY_LOADED_KEY = 'freq-loaded';

/** Consent sets of the v1 copy (`consent:<campaignId>`), deleted by the v2 load so no erased number lingers there. */
export const LEGACY_CONSENT_PATTERN = 'consent:*';

export class ComplianceCacheNotLoaded extends Error {
  constructor() {
    super('compliance lists are not loaded in Redis; refusing to screen (fail closed)');
  }
}

export const complianceKeys = {
  dncGlobal: 'dnc:global',
  dncCampaign: (campaignId: string) => `dnc:campaign:${campaignId}`,
  dncRegistry: 'dnc:registry',
  dncSeller: (sellerId: string) => `dnc:seller:${sellerId}`,
  blocked: 'blocked',
  consent: (campaignId: string) => `consent-until:${campaignId}`,
  frequency: (subject: string, e164: string) => `freq:${subject}:${e164}`,
  national: (kind: RegistryKind) => `dnc:national:${kind}`,
  /** a registry copy while it loads; renamed to `national(kind)` once complete */
  nationalLoading: (kind: RegistryKind, generation: string) => `dnc:national:${kind}:loading:${generation}`,
  nationalMeta: 'dnc:national:meta',
  reassigned: 'rnd:disconnected',
  consentSince: (campaignId: string) => `consent-since:${campaignId}`,
  litigators: 'litigators',
};



export interface ComplianceFacts {
  dnc: { global: boolean; campaign: boolean; registry: boolean; seller?: boolean };
  blocked: boolean;
  consent: boolean;
  lists: ListFacts;
  /** only when the frequency limits were asked (outbound screening) */
  frequency?: FrequencyVerdict;
}
