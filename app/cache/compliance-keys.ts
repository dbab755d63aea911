/**
 * The Redis side of screening: DNC lists, the caller block list and consent (read by screen-and-reserve.ts).
 * Keys (under the deployment's prefix):
 *   dnc:global            set of E.164 numbers: the platform's internal DNC list
 *   dnc:campaign:<id>     set: one campaign's DNC list
 *   dnc:registry          set: numbers from imported registry lists (federal/state DNC scrubs)
 *   blocked               set: callers blocked for fraud or abuse
 *   consent:<campaignId>  set: numbers with a live consent record for the campaign
 *   compliance:loaded     marker: the copy is complete (absent after a Redis restart)
 * Postgres holds the records of truth (dnc_entries, blocked_numbers, consent_records); every writer updates both.
 */
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
};

export interface ComplianceFacts {
  dnc: { global: boolean; campaign: boolean; registry: boolean };
  blocked: boolean;
  consent: boolean;
}
