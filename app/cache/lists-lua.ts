import { complianceKeys } from './compliance-keys';
import { oldestFreshRegistryDateMs, registryKindFor, type ListFacts, type RegistryKind } from '../domain/lists';

/**
 * The purchased lists' part of the screening script (screen-and-reserve.ts), kept in functions of their own: the
 * national registry copy and its freshness, the RND's last disconnection against the latest consent, and the
 * litigator list. Its keys go after every other key of the script (so they do not move the candidates' keys),
 * its one argument after the others, its facts after the script's fixed answers. The rules are domain/lists.ts's; these functions only say whether
 * the facts block the call, so that nothing is reserved for a call the rules will refuse.
 */
export const LISTS_LUA = `
-- Only what a rule of this call can use is looked up: the copy's date, the RND date and the consent time serve
-- outbound calls only (the RND's with consent required), the litigator list campaigns that block litigators.
-- opts: outbound(0/1), block litigators(0/1), registry required(0/1), oldest fresh copy date (ms), the number's
-- registry kind ('-': none) and area code ('-': none), packed in one argument (see listsArg).
local function listsFacts(k, n, opts, requireConsent)
  local national, copyDate, covered, disc, since, litig = 0, 0, 0, 0, 0, 0
  local outbound = opts[1] == '1'
  local kind, areaCode = opts[5], opts[6]
  if kind ~= '-' then
    national = redis.call('SISMEMBER', k[1], n)
    local meta = outbound and redis.call('HGET', k[2], kind)
    if meta then
      local bar = string.find(meta, '|', 1, true)
      copyDate = tonumber(string.sub(meta, 1, bar - 1))
      local codes = string.sub(meta, bar + 1)
      if codes == '' or (areaCode ~= '-' and string.find(codes, ',' .. areaCode .. ',', 1, true)) then covered = 1 end
    end
  end
  if outbound and requireConsent == '1' then
    disc = tonumber(redis.call('HGET', k[3], n) or '0')
    if disc > 0 then since = tonumber(redis.call('HGET', k[4], n) or '0') end
  end
  if opts[2] == '1' then litig = redis.call('SISMEMBER', k[5], n) end
  return {national, copyDate, covered, disc, since, litig}
end
local function listsBlock(f, opts, requireConsent)
  local kind = opts[5]
  if f[1] == 1 then return true end
  if opts[2] == '1' and f[6] == 1 then return true end
  if opts[1] ~= '1' then return false end
  if kind ~= '-' then
    if f[2] == 0 then
      if opts[3] == '1' then return true end
    elseif f[2] < tonumber(opts[4]) or f[3] == 0 then
      return true
    end
  end
  if requireConsent == '1' and f[4] > 0 and f[5] > 0 and math.floor(f[5] / 86400000) * 86400000 <= f[4] then return true end
  return false
end
`;

export interface ListsOptions {
  outbound: boolean;
  blockLitigators: boolean;
  registryMaxAgeDays: number;
  registryRequired: boolean;
}

/** The five keys the lists' functions read, in their order. */
export function listsKeys(campaignId: string, kind: RegistryKind | undefined): string[] {
  return [complianceKeys.national(kind ?? 'us'), complianceKeys.nationalMeta, complianceKeys.reassigned, complianceKeys.consentSince(campaignId), complianceKeys.litigators];
}

/** The script's one argument for the lists: the options, the registry kind and the area code, packed (see LISTS_LUA). */
export function listsArg(country: string, areaCode: string | undefined, nowMs: number, o: ListsOptions): string {
  const flag = (b: boolean): string => (b ? '1' : '0');
  return `${flag(o.outbound)},${flag(o.blockLitigators)},${flag(o.registryRequired)},${oldestFreshRegistryDateMs(nowMs, o.registryMaxAgeDays)},${registryKindFor(country) ?? '-'},${areaCode ?? '-'}`;
}

/** The six numbers listsFacts answers, as facts. */
export function readListsFacts(raw: number[]): ListFacts {
  const [national, copyDate, covered, disc, since, litig] = raw;
  return {
    national: national === 1,
    ...(copyDate ? { registryCopy: { registryDateMs: copyDate, coversNumber: covered === 1 } } : {}),
    ...(disc ? { disconnectedOnMs: disc } : {}),
    ...(since ? { consentAtMs: since } : {}),
    litigator: litig === 1,
  };
}
