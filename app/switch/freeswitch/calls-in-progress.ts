/**
 * Finding the calls in progress on the switch that carry an exchange call id, over the inbound ESL connection:
 * `show channels as json` lists every channel (no variables: recording inbound-G), then `uuid_getvar <uuid>
 * callx_call_id` asks each caller leg for our id. A caller leg is a row that is its own call (call_uuid = uuid;
 * a buyer leg's call_uuid names the caller it was originated for); it is bridged when an answered row belongs
 * to it.
 */
import { z } from 'zod';
import { ChannelCallIds } from '../channel-call-ids';
import type { CallInProgress } from '../port';

const row = z
  .object({
    uuid: z.string().min(1),
    direction: z.string().optional(),
    callstate: z.string().optional(),
    call_uuid: z.string().optional(),
    application: z.string().optional(),
  })
  .passthrough();

/** `{"row_count":N,"rows":[...]}`, or `{"row_count": 0}` (with no rows key) when nothing is up. */
const listing = z.object({ row_count: z.number().int().nonnegative(), rows: z.array(row).optional() });

export type ChannelRow = z.infer<typeof row>;

/** Channel uuids go back into api command lines: nothing but a uuid's characters. */
export const SAFE_UUID = /^[0-9A-Za-z-]{1,64}$/;

export class ChannelListingError extends Error {}

/** Parses the body of `show channels as json`. */
export function parseChannelListing(body: string): ChannelRow[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ChannelListingError(`show channels: not JSON: ${body.slice(0, 80)}`);
  }
  const parsed = listing.safeParse(json);
  if (!parsed.success) throw new ChannelListingError(`show channels: unexpected shape: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data.rows ?? [];
}

/** The caller legs of a listing, each with whether an answered buyer leg is bridged to it. */
export function callerLegs(rows: ChannelRow[]): Array<{ uuid: string; bridged: boolean }> {
  const answeredLegsOf = new Set<string>();
  for (const r of rows) {
    if (r.call_uuid && r.call_uuid !== r.uuid && r.callstate === 'ACTIVE') answeredLegsOf.add(r.call_uuid);
  }
  return rows
    .filter((r) => SAFE_UUID.test(r.uuid) && (r.call_uuid ?? r.uuid) === r.uuid)
    .map((r) => ({ uuid: r.uuid, bridged: answeredLegsOf.has(r.uuid) && r.callstate === 'ACTIVE' }));
}

/** What `uuid_getvar` answers for a variable that is not set. */
export const UNDEFINED_VARIABLE = '_undef_';

/**
 * The calls in progress carrying our id. `api` runs one inbound `api` command; a channel that is gone between the
 * listing and its getvar (`-ERR No such channel!`) is left out; any other failure rejects the whole listing. Only
 * channels that `known` cannot answer for are asked.
 */
export async function listCallsInProgress(
  api: (command: string) => Promise<string>,
  isGone: (err: unknown) => boolean,
  known: ChannelCallIds = new ChannelCallIds(),
): Promise<CallInProgress[]> {
  const callers = callerLegs(parseChannelListing(await api('show channels as json')));
  known.keepOnly(new Set(callers.map((c) => c.uuid)));
  const found: CallInProgress[] = [];
  for (const c of callers) {
    let callId = known.get(c.uuid);
    if (callId === undefined) {
      try {
        callId = (await api(`uuid_getvar ${c.uuid} callx_call_id`)).trim();
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      if (callId === UNDEFINED_VARIABLE) callId = ChannelCallIds.NOT_OURS;
      // Unset on a leg in setup may still change (our id is set just before the bridge); on a bridged leg it will not.
      if (callId !== ChannelCallIds.NOT_OURS || c.bridged) known.remember(c.uuid, callId);
    }
    if (callId === ChannelCallIds.NOT_OURS) continue;
    found.push({ callId, switchCallId: c.uuid, bridged: c.bridged });
  }
  return found;
}
