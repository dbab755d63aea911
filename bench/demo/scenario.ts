/**
 * The demo's little market: one seller with one campaign and three tracking numbers, five buyers who each show one
 * rule at work, and the callers that dial in. `seedDemo` writes it and may run any number of times: every run
 * starts from the same configuration, the same funds and the same compliance lists, whatever the last run left.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { addDncNumbers } from '../../app/store/compliance-repo';
import { liftBlock } from '../../app/store/fraud-repo';
import { postTransaction } from '../../app/store/ledger-repo';
import { fundKeys } from '../../app/cache/fund-holds';
import { concurrencyCapKey } from '../../app/domain/caps';

export const SELLER_ID = 'demo-seller';
export const CAMPAIGN_ID = 'demo-auto';
export const CAMPAIGN = { floorCents: 1000, payoutPercent: 60, routing: 'second_price' as const };
export const DIDS = ['+18885550100', '+18885550101', '+18885550102'];

/** On the platform's DNC list: screening refuses its calls (dnc_global; once fraud scoring sees how often it calls, also blocked_caller). */
export const DNC_CALLER = '+13125550142';
/** Not a valid number (area code 123): screening refuses it (invalid_caller). */
export const INVALID_CALLER = '+11235550100';

export interface DemoBuyer {
  id: string;
  bidCents: number;
  /** the buyer's phone (the switch bridges the caller to it) */
  phone: string;
  /** how the phone answers */
  line: 'answers' | 'busy';
  /** funds the buyer starts each run with, in cents */
  fundsCents: number;
  capConcurrency?: number;
  /** open on no day the demo could be running: excluded as schedule_closed */
  closedNow?: boolean;
  note: string;
}

export const BUYERS: readonly DemoBuyer[] = [
  { id: 'night-owl', bidCents: 4000, phone: '+15551230003', line: 'answers', fundsCents: 10_000_000, closedNow: true, note: 'closed right now (its schedule)' },
  { id: 'acme-insurance', bidCents: 3000, phone: '+15551230001', line: 'busy', fundsCents: 10_000_000, note: 'its line is busy: calls fail over' },
  { id: 'best-quotes', bidCents: 2500, phone: '+15551230002', line: 'answers', fundsCents: 10_000_000, capConcurrency: 1, note: 'takes one call at a time' },
  { id: 'shoestring', bidCents: 2200, phone: '+15551230004', line: 'answers', fundsCents: 5_000, note: 'nearly out of funds' },
  { id: 'steady-leads', bidCents: 1500, phone: '+15551230005', line: 'answers', fundsCents: 10_000_000, note: 'a steady low bid' },
];

/**
 * The caller of the n-th call (n from 1): every tenth the DNC-listed number, every fifteenth (not also a tenth) the
 * invalid one, the others fresh valid Tampa numbers (area code 813, an exchange from 200 to 999 that is not N11).
 */
export function callerFor(n: number, random: () => number = Math.random): string {
  if (n % 10 === 0) return DNC_CALLER;
  if (n % 15 === 0) return INVALID_CALLER;
  let exchange: number;
  do exchange = 200 + Math.floor(random() * 800);
  while (exchange % 100 === 11);
  return `+1813${exchange}${String(Math.floor(random() * 10_000)).padStart(4, '0')}`;
}

/** A weekly schedule open only on the day after tomorrow (UTC): closed whenever a demo runs. */
export function closedSchedule(now: Date): object {
  return { timeZone: 'UTC', hours: { [String((now.getUTCDay() + 2) % 7)]: [[0, 1440]] } };
}

export interface SeedResult {
  /** buyers whose funds were topped up to their starting figure, with the amount in cents */
  toppedUp: Map<string, number>;
}

/**
 * Writes the demo's configuration (insert or update, so bids, schedules and caps are as above on every run), tops
 * each buyer's funds up to its starting figure with a deposit in the ledger (so the ledger still accounts for every
 * cent), re-activates tracking numbers fraud may have paused, lifts fraud blocks on the demo's fixed callers and
 * puts the DNC caller on the platform's list. It also drops the buyers' concurrency leases: a demo killed outright
 * (SIGKILL, a closed terminal) leaves its calls' leases behind for hours, and no demo call is up while it seeds (one
 * demo at a time per schema and prefix). The caller refreshes the routing snapshot afterwards.
 */
export async function seedDemo(db: { pool: Pool; redis: Redis }, now: Date, runId: string): Promise<SeedResult> {
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  await q(
    `INSERT INTO accounts (id, kind, name) VALUES ($1, 'seller', 'Demo Seller')
     ON CONFLICT (id) DO UPDATE SET active = true, updated_at = now()`,
    [SELLER_ID],
  );
  await q(
    `INSERT INTO campaigns (id, seller_account_id, name, routing, floor_cents, payout_percent, duplicate_window_days)
     VALUES ($1, $2, 'Auto insurance (demo)', $3, $4, $5, 0)
     ON CONFLICT (id) DO UPDATE SET active = true, routing = EXCLUDED.routing, floor_cents = EXCLUDED.floor_cents,
       payout_cents = NULL, payout_percent = EXCLUDED.payout_percent, duplicate_window_days = 0, require_consent = false,
       min_attestation = NULL, updated_at = now()`,
    [CAMPAIGN_ID, SELLER_ID, CAMPAIGN.routing, CAMPAIGN.floorCents, CAMPAIGN.payoutPercent],
  );
  for (const did of DIDS) {
    await q(
      `INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, $2, $3)
       ON CONFLICT (did) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, seller_account_id = EXCLUDED.seller_account_id, active = true`,
      [did, CAMPAIGN_ID, SELLER_ID],
    );
  }
  const toppedUp = new Map<string, number>();
  for (const b of BUYERS) {
    await q(
      `INSERT INTO accounts (id, kind, name) VALUES ($1, 'buyer', $1)
       ON CONFLICT (id) DO UPDATE SET active = true, credit_limit_cents = 0, updated_at = now()`,
      [b.id],
    );
    await q(
      `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, schedule, cap_concurrency,
         answer_timeout_sec, convert_on_seconds)
       VALUES ($1, $1, $2, $3, $4, $5, $6, $7, 10, 5)
       ON CONFLICT (id) DO UPDATE SET active = true, campaign_id = EXCLUDED.campaign_id, name = EXCLUDED.name,
         bid_cents = EXCLUDED.bid_cents, destination = EXCLUDED.destination, schedule = EXCLUDED.schedule, targeting = '{}'::jsonb,
         cap_concurrency = EXCLUDED.cap_concurrency, cap_hourly = NULL, cap_daily = NULL, cap_monthly = NULL, quality_score = 1,
         priority = 1, weight = 1, answer_timeout_sec = 10, convert_on_seconds = 5, updated_at = now()`,
      [b.id, CAMPAIGN_ID, b.note, b.bidCents, b.phone, b.closedNow ? JSON.stringify(closedSchedule(now)) : null, b.capConcurrency ?? null],
    );
    const { rows } = await q('SELECT balance_cents FROM accounts WHERE id = $1', [b.id]);
    const missing = b.fundsCents - Number(rows[0].balance_cents);
    if (missing > 0) {
      await postTransaction(db.pool, {
        idempotencyKey: `demo:${runId}:top-up:${b.id}`,
        kind: 'deposit',
        memo: 'demo: funds at the start of a run',
        postings: [{ accountId: b.id, amountCents: missing }, { accountId: 'platform', amountCents: -missing }],
      });
      toppedUp.set(b.id, missing);
    }
  }
  // A killed run's concurrency leases and fund holds would outlive it by hours: a run starts with none.
  await db.redis.del(...BUYERS.flatMap((b) => [concurrencyCapKey(b.id), ...fundKeys(b.id)]));
  for (const n of [DNC_CALLER, INVALID_CALLER]) await liftBlock(db.pool, db.redis, n, 'demo seed');
  await addDncNumbers(db.pool, db.redis, 'global', [DNC_CALLER], 'demo: the consumer asked not to be called');
  return { toppedUp };
}
