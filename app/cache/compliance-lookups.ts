import type { Redis } from 'ioredis';

/**
 * The Redis side of screening: DNC lists, the caller block list and consent, answered in one round trip.
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

const LOOKUP_SCRIPT = `
local n = ARGV[1]
return {
  redis.call('SISMEMBER', KEYS[1], n),
  redis.call('SISMEMBER', KEYS[2], n),
  redis.call('SISMEMBER', KEYS[3], n),
  redis.call('SISMEMBER', KEYS[4], n),
  redis.call('SISMEMBER', KEYS[5], n),
  redis.call('EXISTS', KEYS[6])
}`;

export interface ComplianceFacts {
  dnc: { global: boolean; campaign: boolean; registry: boolean };
  blocked: boolean;
  consent: boolean;
}

type LookupClient = Redis & { callxComplianceLookup(k1: string, k2: string, k3: string, k4: string, k5: string, k6: string, n: string): Promise<number[]> };

export class ComplianceLookups {
  private readonly client: LookupClient;
  constructor(redis: Redis) {
    if (!('callxComplianceLookup' in redis)) redis.defineCommand('callxComplianceLookup', { numberOfKeys: 6, lua: LOOKUP_SCRIPT });
    this.client = redis as LookupClient;
  }

  async lookup(e164: string, campaignId: string): Promise<ComplianceFacts> {
    const [g, c, r, b, consent, loaded] = await this.client.callxComplianceLookup(
      complianceKeys.dncGlobal,
      complianceKeys.dncCampaign(campaignId),
      complianceKeys.dncRegistry,
      complianceKeys.blocked,
      complianceKeys.consent(campaignId),
      COMPLIANCE_LOADED_KEY,
      e164,
    );
    if (loaded !== 1) throw new ComplianceCacheNotLoaded();
    return { dnc: { global: g === 1, campaign: c === 1, registry: r === 1 }, blocked: b === 1, consent: consent === 1 };
  }
}
