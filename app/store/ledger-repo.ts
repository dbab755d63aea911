/**
 * Billing in Postgres: settles ended calls in batches (one transaction, a few set-based statements), posts to the
 * double-entry ledger, keeps account balances, and answers balance and ledger queries.
 * Idempotent twice over: `call_billing` has one row per call (a call billed again is skipped) and every ledger
 * transaction has a unique idempotency key ('<call id>:call'); the database refuses a transaction that does not
 * sum to zero (migrations/003_billing.sql).
 */
import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { ApiPrincipal } from './api-keys';
import { writeAudit } from './audit-repo';
import { inTransaction } from './db';
import { decideBilling, isDuplicateCaller, type BillingDecision, type EndedCall } from '../domain/billing';
import type { FundsFigure } from '../cache/fund-holds';

export interface BillBatchResult {
  /** calls billed now (converted or not) */
  billed: string[];
  /** calls already billed earlier (a repeated job) */
  alreadyBilled: string[];
  /** calls that are not (yet) recorded as ended: their jobs should be retried */
  notReady: string[];
  /**
   * Available funds (balance + credit) and funds version, as this transaction leaves them, of every buyer charged
   * now or whose call in `settled` is here: written to Redis with the release of those calls' fund holds.
   */
  funds: Map<string, FundsFigure>;
  /** the ended calls of this batch (billed now or earlier) that had a buyer: their fund holds are settled */
  settled: Array<{ callId: string; buyerId: string }>;
  /**
   * The other buyers the ended calls were offered to (failed bridges): their holds were released when the bridge
   * failed, unless Redis refused that release; releasing again is harmless, and a hold left behind would otherwise
   * keep the buyer's funds from its other calls until its lease ran out, hours later.
   */
  tried: Array<{ callId: string; buyerId: string }>;
  converted: number;
}

/**
 * A named (server-side prepared) statement: Postgres parses and plans each of billing's statements once per
 * connection, not once per batch (planning was ~70 us a call at 300 calls/s, more than some statements took to run).
 * Their plans do not depend on the batch: each probes rows by key from an unnest or an array of ids.
 */
function named(name: string, text: string, values: unknown[]): QueryConfig {
  return { name: `billing_${name}`, text, values };
}

interface CallFacts {
  call: EndedCall;
  convertOnSeconds: number;
  payoutCents: number | null;
  payoutPercent: number | null;
  allowNegativeMargin: boolean;
  windowDays: number;
}


/**
 * Bills ended calls, and answers which buyers' fund holds they settle with the buyers' figures after the charge
 * (read in the same transaction, so the figure a hold is released against always includes its call's charge;
 * for a call billed earlier, a retried job, the figure is simply the current one).
 */
export async function billEndedCalls(pool: Pool, callIds: readonly string[]): Promise<BillBatchResult> {
  return inTransaction(pool, async (c) => {
    const result = await billInTransaction(c, callIds);
    const buyers = [...new Set(result.settled.map((s) => s.buyerId))].filter((b) => !result.funds.has(b));
    if (buyers.length > 0) {
      const { rows } = await c.query(named('buyer_funds', "SELECT id, balance_cents + credit_limit_cents AS available, funds_version FROM accounts WHERE id = ANY($1::text[]) AND kind = 'buyer'", [buyers]));
      for (const r of rows) result.funds.set(r.id, { cents: Number(r.available), version: Number(r.funds_version) });
    }
    return result;
  });
}

async function billInTransaction(c: PoolClient, callIds: readonly string[]): Promise<BillBatchResult> {
  const ids = [...new Set(callIds)];
  {
    const { rows } = await c.query(named('load_calls',
      `SELECT c.id, c.campaign_id, c.seller_account_id, c.ani, c.started_at, c.outcome, (c.bridged_at IS NOT NULL) AS bridged, c.billable_sec, c.winner_buyer_id,
              c.price_cents, (c.ended_at IS NOT NULL) AS ended, coalesce(t.convert_on_seconds, 0) AS convert_on_seconds, cp.payout_cents,
              cp.payout_percent, coalesce(cp.allow_negative_margin, false) AS allow_negative_margin, coalesce(cp.duplicate_window_days, 0) AS duplicate_window_days,
              (b.call_id IS NOT NULL) AS billed,
              -- the buyers it rang without ending with them (skips for caps or funds held nothing), see BillBatchResult.tried
              ARRAY(SELECT DISTINCT a.buyer_id FROM bridge_attempts a
                    WHERE a.call_id = c.id AND a.status NOT IN ('bridged', 'insufficient_funds', 'cap_reached')
                      AND a.buyer_id IS DISTINCT FROM c.winner_buyer_id) AS tried
       FROM calls c
       LEFT JOIN campaigns cp ON cp.id = c.campaign_id
       LEFT JOIN buyer_targets t ON t.id = c.winner_target_id
       LEFT JOIN call_billing b ON b.call_id = c.id
       WHERE c.id = ANY($1::text[])`,
      [ids],
    ));
    const found = new Map(rows.map((r) => [r.id as string, r]));
    const result: BillBatchResult = { billed: [], alreadyBilled: [], notReady: [], funds: new Map(), settled: [], tried: [], converted: 0 };
    const todo: CallFacts[] = [];
    for (const id of ids) {
      const r = found.get(id);
      if (!r || !r.ended) {
        result.notReady.push(id);
        continue;
      }
      // Ended, so whatever it held is settled here: charged now, charged earlier, or not charged at all.
      if (r.winner_buyer_id) result.settled.push({ callId: id, buyerId: r.winner_buyer_id });
      for (const buyerId of r.tried as string[]) result.tried.push({ callId: id, buyerId });
      if (r.billed) result.alreadyBilled.push(id);
      else {
        todo.push({
          call: {
            callId: id,
            // a call rejected before a campaign was known (unknown number) is billed as not bridged
            campaignId: r.campaign_id ?? '',
            sellerAccountId: r.seller_account_id ?? '',
            ani: r.ani,
            startedAt: r.started_at,
            outcome: r.outcome,
            bridged: r.bridged === true,
            billableSec: r.billable_sec ?? 0,
            winnerBuyerId: r.winner_buyer_id ?? undefined,
            priceCents: r.price_cents === null ? undefined : Number(r.price_cents),
          },
          convertOnSeconds: r.convert_on_seconds,
          payoutCents: r.payout_cents === null ? null : Number(r.payout_cents),
          payoutPercent: r.payout_percent === null ? null : Number(r.payout_percent),
          allowNegativeMargin: r.allow_negative_margin === true,
          windowDays: r.duplicate_window_days,
        });
      }
    }
    if (todo.length === 0) return result;

    // Earlier conversions of the same callers on the same campaigns, then this batch in call order.
    const earlier = await earlierConversions(c, todo);
    todo.sort((a, b) => a.call.startedAt.getTime() - b.call.startedAt.getTime());
    const decisions: Array<{ facts: CallFacts; decision: BillingDecision }> = [];
    for (const facts of todo) {
      const key = `${facts.call.campaignId}\u0000${facts.call.ani}`;
      const seen = earlier.get(key) ?? [];
      const decision = decideBilling(facts.call, facts.convertOnSeconds, facts, isDuplicateCaller(seen, facts.call.startedAt, facts.windowDays));
      if (decision.converted) earlier.set(key, [...seen, facts.call.startedAt]);
      decisions.push({ facts, decision });
    }

    // One row per call; a call another worker billed meanwhile comes back missing and is left alone. Rows go in
    // call id order (as do the ledger's and the accounts' below), so batches that overlap never deadlock.
    decisions.sort((a, b) => (a.facts.call.callId < b.facts.call.callId ? -1 : 1));
    const inserted = await c.query(named('insert_billing',
      `INSERT INTO call_billing (call_id, campaign_id, ani, started_at, converted, duplicate, reason, buyer_charge_cents, seller_payout_cents)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::boolean[], $6::boolean[], $7::text[], $8::bigint[], $9::bigint[])
       ON CONFLICT (call_id) DO NOTHING RETURNING call_id`,
      [
        decisions.map((d) => d.facts.call.callId),
        decisions.map((d) => d.facts.call.campaignId || null),
        decisions.map((d) => d.facts.call.ani),
        decisions.map((d) => d.facts.call.startedAt),
        decisions.map((d) => d.decision.converted),
        decisions.map((d) => d.decision.duplicate),
        decisions.map((d) => d.decision.reason),
        decisions.map((d) => d.decision.buyerChargeCents),
        decisions.map((d) => d.decision.sellerPayoutCents),
      ],
    ));
    const mine = new Set(inserted.rows.map((r) => r.call_id as string));
    for (const d of decisions) (mine.has(d.facts.call.callId) ? result.billed : result.alreadyBilled).push(d.facts.call.callId);
    const paid = decisions.filter((d) => d.decision.converted && mine.has(d.facts.call.callId));
    result.converted = paid.length;
    if (paid.length === 0) return result;

    const txns = await c.query(named('insert_transactions',
      `INSERT INTO ledger_transactions (idempotency_key, kind, call_id, campaign_id, memo)
       SELECT k, 'call', id, campaign, 'converted call' FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, id, campaign)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, call_id`,
      [paid.map((d) => `${d.facts.call.callId}:call`), paid.map((d) => d.facts.call.callId), paid.map((d) => d.facts.call.campaignId)],
    ));
    const txnOf = new Map(txns.rows.map((r) => [r.call_id as string, r.id as string]));
    const entryTxn: string[] = [];
    const entryAccount: string[] = [];
    const entryAmount: number[] = [];
    const delta = new Map<string, number>();
    for (const d of paid) {
      const txn = txnOf.get(d.facts.call.callId);
      if (!txn) continue; // posted by an earlier run
      for (const p of d.decision.postings) {
        entryTxn.push(txn);
        entryAccount.push(p.accountId);
        entryAmount.push(p.amountCents);
        delta.set(p.accountId, (delta.get(p.accountId) ?? 0) + p.amountCents);
      }
    }
    await postEntries(c, entryTxn, entryAccount, entryAmount, delta, result.funds);
    return result;
  }
}

async function earlierConversions(c: PoolClient, todo: readonly CallFacts[]): Promise<Map<string, Date[]>> {
  // Two batches billing the same caller on the same campaign at once would each miss the other's conversion:
  // one transaction-scoped lock per (campaign, caller), taken in a fixed order, makes them wait their turn.
  await c.query(named('lock_callers',
    `SELECT pg_advisory_xact_lock(h) FROM (
       SELECT DISTINCT hashtextextended(campaign_id || '|' || ani, 0) AS h FROM unnest($1::text[], $2::text[]) AS u(campaign_id, ani) ORDER BY h
     ) AS keys`,
    [todo.map((f) => f.call.campaignId), todo.map((f) => f.call.ani)],
  ));
  const since = new Date(Math.min(...todo.map((f) => f.call.startedAt.getTime() - f.windowDays * 86_400_000)));
  // One index probe per (campaign, caller) whatever the statistics say (a prepared statement's generic plan, hashing
  // every converted row since $3, would grow with call_billing).
  const { rows } = await c.query(named('earlier_conversions',
    `SELECT u.campaign_id, u.ani, b.started_at FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS u(campaign_id, ani)
     CROSS JOIN LATERAL (SELECT b.started_at FROM call_billing b
       WHERE b.campaign_id = u.campaign_id AND b.ani = u.ani AND b.converted AND b.started_at >= $3 OFFSET 0) b`,
    [todo.map((f) => f.call.campaignId), todo.map((f) => f.call.ani), since],
  ));
  const map = new Map<string, Date[]>();
  for (const r of rows) {
    const key = `${r.campaign_id}\u0000${r.ani}`;
    const list = map.get(key);
    if (list) list.push(r.started_at);
    else map.set(key, [r.started_at]);
  }
  return map;
}

/**
 * Writes ledger entries and moves the cached balances by the same amounts, in the caller's transaction.
 * Buyers' new available funds (balance + credit) are collected into `funds`.
 */
async function postEntries(c: PoolClient, txn: string[], account: string[], amount: number[], delta: Map<string, number>, funds: Map<string, FundsFigure>): Promise<void> {
  if (txn.length === 0) return;
  await c.query(named('insert_entries',
    `INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])`,
    [txn, account, amount],
  ));
  // Accounts locked in a fixed order first, so concurrent batches never wait on each other in a cycle (an
  // UPDATE ... FROM locks rows in whatever order its plan visits them).
  const ids = [...delta.keys()].sort();
  await c.query(named('lock_accounts', 'SELECT id FROM accounts WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE', [ids]));
  const { rows } = await c.query(named('move_balances',
    `UPDATE accounts a SET balance_cents = a.balance_cents + d.delta, updated_at = now()
     FROM (SELECT * FROM unnest($1::text[], $2::bigint[]) AS u(id, delta) ORDER BY id) d
     WHERE a.id = d.id RETURNING a.id, a.kind, a.balance_cents + a.credit_limit_cents AS available, a.funds_version`,
    [ids, ids.map((id) => delta.get(id)!)],
  ));
  for (const r of rows) if (r.kind === 'buyer') funds.set(r.id, { cents: Number(r.available), version: Number(r.funds_version) });
}

/** One balanced posting outside call billing (refund, adjustment, deposit), at most once per idempotency key. */
export async function postTransaction(
  pool: Pool,
  t: { idempotencyKey: string; kind: 'refund' | 'adjustment' | 'deposit'; callId?: string; campaignId?: string; memo: string; postings: Array<{ accountId: string; amountCents: number }> },
  /** who posted it (an admin's key): each account's balance change goes to the audit trail in the same transaction */
  actor?: ApiPrincipal,
): Promise<{ posted: boolean; transactionId: string; funds: Map<string, FundsFigure> }> {
  return inTransaction(pool, async (c) => {
    const ins = await c.query(
      `INSERT INTO ledger_transactions (idempotency_key, kind, call_id, campaign_id, memo) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [t.idempotencyKey, t.kind, t.callId ?? null, t.campaignId ?? null, t.memo],
    );
    const funds = new Map<string, FundsFigure>();
    if (ins.rows.length === 0) {
      const existing = await c.query('SELECT id FROM ledger_transactions WHERE idempotency_key = $1', [t.idempotencyKey]);
      // A repeat (the first answer was lost, or its Redis write failed) answers the buyers' current figures too,
      // so the caller writes them again rather than leave Redis on the figures before the posting.
      const { rows } = await c.query(
        "SELECT id, balance_cents + credit_limit_cents AS available, funds_version FROM accounts WHERE id = ANY($1::text[]) AND kind = 'buyer'",
        [[...new Set(t.postings.map((p) => p.accountId))]],
      );
      for (const r of rows) funds.set(r.id, { cents: Number(r.available), version: Number(r.funds_version) });
      return { posted: false, transactionId: String(existing.rows[0].id), funds };
    }
    const id = String(ins.rows[0].id);
    const postings = t.postings.filter((p) => p.amountCents !== 0);
    const delta = new Map<string, number>();
    for (const p of postings) delta.set(p.accountId, (delta.get(p.accountId) ?? 0) + p.amountCents);
    const balances = async () => new Map((await c.query('SELECT id, balance_cents FROM accounts WHERE id = ANY($1::text[])', [[...delta.keys()]])).rows.map((r) => [r.id as string, Number(r.balance_cents)]));
    const before = actor ? await balances() : undefined;
    await postEntries(c, postings.map(() => id), postings.map((p) => p.accountId), postings.map((p) => p.amountCents), delta, funds);
    if (actor && before) {
      const after = await balances();
      await writeAudit(c, actor, [...delta.keys()].sort().map((accountId) => ({ entity: 'account', entityId: accountId, field: 'balanceCents', oldValue: before.get(accountId) ?? null, newValue: after.get(accountId) ?? null })));
    }
    return { posted: true, transactionId: id, funds };
  });
}

/** Available funds (balance + credit) of every buyer, for the routing cache. */
export async function loadBuyerFunds(pool: Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query("SELECT id, balance_cents + credit_limit_cents AS available FROM accounts WHERE kind = 'buyer'");
  return new Map(rows.map((r) => [r.id as string, Number(r.available)]));
}

export interface AccountBalance {
  accountId: string;
  kind: string;
  balanceCents: number;
  creditLimitCents: number;
  availableCents: number;
}

export async function accountBalance(pool: Pool, accountId: string): Promise<AccountBalance | undefined> {
  const { rows } = await pool.query('SELECT id, kind, balance_cents, credit_limit_cents FROM accounts WHERE id = $1', [accountId]);
  const r = rows[0];
  if (!r) return undefined;
  const balance = Number(r.balance_cents);
  const credit = Number(r.credit_limit_cents);
  return { accountId: r.id, kind: r.kind, balanceCents: balance, creditLimitCents: credit, availableCents: balance + credit };
}

/** An account's ledger entries in a period, newest first, `limit` at a time after the entry id `before`. */
export async function ledgerEntries(pool: Pool, accountId: string, p: { from: Date; to: Date; limit: number; before?: number }) {
  const { rows } = await pool.query(
    `SELECT e.id, e.amount_cents, e.created_at, t.kind, t.call_id, t.campaign_id, t.memo, t.idempotency_key
     FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND ($4::bigint IS NULL OR e.id < $4)
     ORDER BY e.id DESC LIMIT $5`,
    [accountId, p.from, p.to, p.before ?? null, p.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    amountCents: Number(r.amount_cents),
    at: r.created_at as Date,
    kind: r.kind as string,
    callId: r.call_id as string | null,
    campaignId: r.campaign_id as string | null,
    memo: r.memo as string,
  }));
}

export interface InvoiceLine {
  campaignId: string | null;
  kind: string;
  transactions: number;
  totalCents: number;
}

/** An account's totals for a period, by campaign and kind of posting. */
export async function invoiceLines(pool: Pool, accountId: string, from: Date, to: Date): Promise<InvoiceLine[]> {
  const { rows } = await pool.query(
    `SELECT t.campaign_id, t.kind, count(*)::int AS n, sum(e.amount_cents)::bigint AS total
     FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at < $3
     GROUP BY t.campaign_id, t.kind ORDER BY t.campaign_id NULLS LAST, t.kind`,
    [accountId, from, to],
  );
  return rows.map((r) => ({ campaignId: r.campaign_id, kind: r.kind, transactions: r.n, totalCents: Number(r.total) }));
}

/**
 * Closes an account's period once: the first run records its total; any later run for the same period returns
 * that record unchanged (`created: false`).
 */
export async function closePeriod(pool: Pool, accountId: string, from: Date, to: Date) {
  return inTransaction(pool, async (c) => {
    // One settlement of a period at a time, so two runs cannot both find it open.
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 1))', [`settle|${accountId}|${from.toISOString()}|${to.toISOString()}`]);
    const existing = await c.query('SELECT total_cents, calls, closed_at FROM settlements WHERE account_id = $1 AND period_start = $2 AND period_end = $3', [accountId, from, to]);
    if (existing.rows[0]) {
      const r = existing.rows[0];
      return { created: false, totalCents: Number(r.total_cents), calls: r.calls as number, closedAt: r.closed_at as Date };
    }
    const overlap = await c.query('SELECT period_start, period_end FROM settlements WHERE account_id = $1 AND period_start < $3 AND period_end > $2', [accountId, from, to]);
    if (overlap.rows[0]) throw Object.assign(new Error(`overlaps the closed period ${overlap.rows[0].period_start.toISOString()} to ${overlap.rows[0].period_end.toISOString()}`), { code: 'period_overlap' });
    const sums = await c.query(
      `SELECT coalesce(sum(e.amount_cents), 0)::bigint AS total, count(DISTINCT t.call_id)::int AS calls
       FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
       WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at < $3`,
      [accountId, from, to],
    );
    const ins = await c.query('INSERT INTO settlements (account_id, period_start, period_end, total_cents, calls) VALUES ($1, $2, $3, $4, $5) RETURNING closed_at', [accountId, from, to, sums.rows[0].total, sums.rows[0].calls]);
    return { created: true, totalCents: Number(sums.rows[0].total), calls: sums.rows[0].calls as number, closedAt: ins.rows[0].closed_at as Date };
  });
}

/** The postings that reverse a billed call (a disputed call refunded to the buyer); undefined if it was not charged. */
export async function refundPostings(pool: Pool, callId: string): Promise<{ campaignId: string | null; postings: Array<{ accountId: string; amountCents: number }> } | undefined> {
  const { rows } = await pool.query(
    `SELECT t.campaign_id, e.account_id, e.amount_cents FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
     WHERE t.idempotency_key = $1`,
    [`${callId}:call`],
  );
  if (rows.length === 0) return undefined;
  return { campaignId: rows[0].campaign_id, postings: rows.map((r) => ({ accountId: r.account_id, amountCents: -Number(r.amount_cents) })) };
}
