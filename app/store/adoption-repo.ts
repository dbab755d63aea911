import type { Pool } from 'pg';
import type { LiveCall } from '../cache/live-calls-registry';
import { concurrencyCapKey } from '../domain/caps';

/**
 * A call's record as something to finish, for a call found on the switch with our call id but in no registry
 * (Redis lost it). Its concurrency slot is named from the winning target (release is by call id, so giving
 * back a slot it no longer holds changes nothing); its period caps stay counted, as for any bridged call.
 */
export async function loadCallForAdoption(pool: Pool, callId: string): Promise<{ ended: boolean; call: LiveCall } | undefined> {
  const { rows } = await pool.query(
    `SELECT c.id, c.switch_name, c.switch_call_id, c.direction, c.ani, c.dnis, c.started_at, c.campaign_id, c.seller_account_id,
            c.winner_target_id, c.winner_buyer_id, c.price_cents, c.ended_at,
            (SELECT max(a.ended_at) FROM bridge_attempts a WHERE a.call_id = c.id AND a.status = 'bridged') AS bridged_at
       FROM calls c WHERE c.id = $1`,
    [callId],
  );
  const r = rows[0];
  if (!r) return undefined;
  const winner = r.winner_target_id && r.winner_buyer_id ? { targetId: r.winner_target_id as string, buyerAccountId: r.winner_buyer_id as string, priceCents: Number(r.price_cents ?? 0) } : undefined;
  const call: LiveCall = {
    callId: r.id,
    switchName: r.switch_name ?? '',
    switchCallId: r.switch_call_id ?? '',
    state: r.bridged_at ? 'bridged' : 'setup',
    direction: r.direction,
    ani: r.ani,
    dnis: r.dnis,
    startedAt: (r.started_at as Date).toISOString(),
    campaignId: r.campaign_id ?? undefined,
    sellerAccountId: r.seller_account_id ?? undefined,
    winner,
    counters: winner ? [{ kind: 'concurrency', key: concurrencyCapKey(winner.targetId), limit: 0, ttlSec: 0 }] : [],
    bridgedAt: r.bridged_at ? (r.bridged_at as Date).toISOString() : undefined,
  };
  return { ended: r.ended_at !== null, call };
}
