/**
 * The Redis side of screening: DNC lists, the caller block list and consent (read by screen-and-reserve.ts).
 * Keys (under the deployment's prefix):
 *   dnc:global            set of E.164 numbers: the platform's internal DNC list
 *   dnc:campaign:<id>     set: one campaign's DNC list
 *   dnc:registry          set: numbers from imported registry lists (federal/state DNC scrubs)
 *   blocked               set: callers blocked for fraud or abuse
 *   consent:<campaignId>  set: numbers with a live consent record for the campaign
 *   dnc:national:<kind>   set: the current copy of a national registry (us: FTC registry, ca: Canada's DNCL)
 *   dnc:national:meta     hash kind -> "<copy date ms>|<,area,codes,>" of the current copy (registry-copies.ts)
 *   rnd:disconnected      hash number -> last permanent disconnection (ms, 00:00 UTC) from RND results
 *   consent-since:<campaignId>  hash number -> the latest live consent's time (ms), for the reassignment check
 *   litigators            set: numbers on an imported TCPA litigator or complainer list
 *   compliance:loaded     marker: the copy is complete (absent after a Redis restart)
 * Postgres holds the records of truth (dnc_entries, blocked_numbers, consent_records); every writer updates both.
 */
import type { ListFacts, RegistryKind } from '../domain/lists';

export type { ListFacts };

/** Set once the Redis copy has been loaded from Postgres; a Redis that lost its data has no marker. */
export const COMPLIANCE_LOADED_KEY = 'compliance:loaded';

export class ComplianceCacheNotLoaded extends Error {
  constructor() {
    super('compliance lists are not loaded in Redis; refusing to screen (fail closed)');
  }
}

export const complianceKeys = {
  dncGlobal: 'dnc:global',
  dncCampaign: (campaignId: string) => `dnc:campaign:${campaignId}`,
  dncRegistry: 'dnc:registry',
  blocked: 'blocked',
  consent: (campaignId: string) => `consent:${campaignId}`,
  national: (kind: RegistryKind) => `dnc:national:${kind}`,
  /** a registry copy while it loads; renamed to `national(kind)` once complete */
  nationalLoading: (kind: RegistryKind, generation: string) => `dnc:national:${kind}:loading:${generation}`,
  nationalMeta: 'dnc:national:meta',
  reassigned: 'rnd:disconnected',
  // not under consent:, whose keys are all sets (privacy erasure scans them with SREM)
  consentSince: (campaignId: string) => `consent-since:${campaignId}`,
  litigators: 'litigators',
};



export interface ComplianceFacts {
  dnc: { global: boolean; campaign: boolean; registry: boolean };
  blocked: boolean;
  consent: boolean;
  lists: ListFacts;
}
