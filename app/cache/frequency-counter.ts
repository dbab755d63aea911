import type { FrequencyLimit } from '../domain/frequency-limits';

/**
 * Per-consumer call counts for the frequency limits (issue 14, feature 1), kept in Redis so every node sees the same
 * counts, and taken atomically in the screening script (screen-and-reserve.ts): a call that passes every other rule
 * is checked against each limit in force and, if within all of them, counted in the same step. Two nodes screening
 * the same consumer at once can therefore never both take the last call.
 *
 * Key: `freq:<subject>:<number>` (compliance-keys.ts), a sorted set of call ids scored by the time the call was
 * placed (ms). Entries older than the retention (the longest window any call is judged by) are trimmed on each check,
 * and the key expires after the retention with no calls.
 */

/**
 * Packs the limits for the script in one argument: "retentionMs,limit,windowMs,limit,windowMs,...".
 * Empty: no frequency check (inbound calls, or no limit in force and nothing to count).
 */
export function frequencySpec(limits: readonly FrequencyLimit[], retentionSec: number): string {
  if (limits.length === 0) return '';
  let spec = String(retentionSec * 1000);
  for (const l of limits) spec += `,${l.limit},${l.windowSec * 1000}`;
  return spec;
}

/**
 * Lua: frequencyTake(key, spec, now, member) answers 0 and counts the call when every limit has room, or the
 * 1-based index of the first limit already reached (nothing counted). A window covers (now - window, now].
 */
export const FREQUENCY_LUA = `
local function frequencyTake(key, spec, now, member)
  local f = {}
  for x in string.gmatch(spec, '[^,]+') do f[#f + 1] = tonumber(x) end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - f[1])
  for i = 2, #f, 2 do
    if redis.call('ZCOUNT', key, '(' .. (now - f[i + 1]), '+inf') >= f[i] then return i / 2 end
  end
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, f[1])
  return 0
end
`;
