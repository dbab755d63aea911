/**
 * What a newcomer wants to see move, read from the demo's database (what the recorder and billing wrote, not what
 * the demo believes it placed): calls of this run, bridged, screened out and why, buyers passed over and why, and
 * the money billing settled into the ledger for them.
 */
import type { Pool } from 'pg';

export interface DemoSummary {
  calls: number;
  /** calls that reached a buyer (ended or still talking) */
  bridged: number;
  talking: number;
  /** bridged calls by the buyer that took them */
  bridgedBy: Record<string, number>;
  screenedOut: number;
  /** screened-out calls by the first rule that refused them */
  screenReasons: Record<string, number>;
  noBuyer: number;
  /** ended for another reason (caller gone before the bridge, internal error), by end reason */
  other: Record<string, number>;
  /** buyers passed over, by why: excluded from the auction, at a cap, or busy or not answering when tried */
  skipped: Record<string, number>;
  /** ledger postings of this run's calls: what buyers paid, what the seller and the platform earned */
  buyersPaidCents: number;
  sellerEarnedCents: number;
  platformKeptCents: number;
  postings: number;
  /** ended calls billing has not settled yet */
  unbilled: number;
}

const SUMMARY_SQL = `
WITH run AS (SELECT id, outcome, reject_reason, end_reason, ended_at FROM calls WHERE started_at >= $1),
decisions AS (SELECT d.trace FROM call_decisions d JOIN run ON run.id = d.call_id),
skipped AS (
  SELECT r AS reason FROM decisions, json_array_elements_text(coalesce(trace #> '{excluded,reason}', '[]')) r
  UNION ALL
  SELECT r FROM decisions, json_array_elements_text(coalesce(trace #> '{ranked,reason}', '[]')) r
  UNION ALL
  SELECT a.status FROM bridge_attempts a JOIN run ON run.id = a.call_id WHERE a.status IN ('busy', 'no_answer', 'failed')
),
postings AS (
  SELECT e.amount_cents, acc.kind FROM ledger_transactions t
  JOIN run ON run.id = t.call_id
  JOIN ledger_entries e ON e.transaction_id = t.id
  JOIN accounts acc ON acc.id = e.account_id
  WHERE t.kind = 'call'
)
SELECT
  (SELECT count(*)::int FROM run) AS calls,
  (SELECT count(DISTINCT a.call_id)::int FROM bridge_attempts a JOIN run ON run.id = a.call_id WHERE a.status = 'bridged') AS bridged,
  (SELECT count(DISTINCT a.call_id)::int FROM bridge_attempts a JOIN run ON run.id = a.call_id
     WHERE a.status = 'bridged' AND run.ended_at IS NULL) AS talking,
  (SELECT coalesce(jsonb_object_agg(buyer_id, n), '{}') FROM (
     SELECT a.buyer_id, count(*)::int AS n FROM bridge_attempts a JOIN run ON run.id = a.call_id WHERE a.status = 'bridged' GROUP BY 1) x) AS bridged_by,
  (SELECT count(*)::int FROM run WHERE outcome = 'rejected' AND reject_reason = 'screened_out') AS screened_out,
  (SELECT coalesce(jsonb_object_agg(reason, n), '{}') FROM (
     SELECT coalesce((SELECT c ->> 'reason' FROM jsonb_array_elements(l.reasons) c WHERE c ->> 'reason' IS NOT NULL LIMIT 1), 'unknown') AS reason,
            count(*)::int AS n
     FROM compliance_audit_log l JOIN run ON run.id = l.call_id WHERE l.decision = 'block' GROUP BY 1) x) AS screen_reasons,
  (SELECT count(*)::int FROM run WHERE outcome = 'no_buyer_answered' OR (outcome = 'rejected' AND reject_reason = 'no_eligible_buyer')) AS no_buyer,
  (SELECT coalesce(jsonb_object_agg(why, n), '{}') FROM (
     SELECT coalesce(end_reason, outcome) AS why, count(*)::int AS n FROM run
     WHERE ended_at IS NOT NULL AND outcome NOT IN ('bridged', 'no_buyer_answered')
       AND NOT (outcome = 'rejected' AND reject_reason IN ('screened_out', 'no_eligible_buyer'))
     GROUP BY 1) x) AS other,
  (SELECT coalesce(jsonb_object_agg(reason, n), '{}') FROM (SELECT reason, count(*)::int AS n FROM skipped WHERE reason IS NOT NULL GROUP BY 1) x) AS skipped,
  (SELECT coalesce(-sum(amount_cents) FILTER (WHERE kind = 'buyer'), 0)::bigint FROM postings) AS buyers_paid,
  (SELECT coalesce(sum(amount_cents) FILTER (WHERE kind = 'seller'), 0)::bigint FROM postings) AS seller_earned,
  (SELECT coalesce(sum(amount_cents) FILTER (WHERE kind = 'platform'), 0)::bigint FROM postings) AS platform_kept,
  (SELECT count(*)::int FROM postings) AS postings,
  (SELECT count(*)::int FROM run WHERE ended_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM call_billing b WHERE b.call_id = run.id)) AS unbilled`;

export async function readSummary(pool: Pool, since: Date): Promise<DemoSummary> {
  const { rows } = await pool.query(SUMMARY_SQL, [since]);
  const r = rows[0];
  return {
    calls: r.calls,
    bridged: r.bridged,
    talking: r.talking,
    bridgedBy: r.bridged_by,
    screenedOut: r.screened_out,
    screenReasons: r.screen_reasons,
    noBuyer: r.no_buyer,
    other: r.other,
    skipped: r.skipped,
    buyersPaidCents: Number(r.buyers_paid),
    sellerEarnedCents: Number(r.seller_earned),
    platformKeptCents: Number(r.platform_kept),
    postings: r.postings,
    unbilled: r.unbilled,
  };
}

/** Cents as dollars: `$1,234.50`, `-$3.00`. */
export const dollars = (cents: number): string =>
  `${cents < 0 ? '-' : ''}$${(Math.abs(cents) / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const counts = (m: Record<string, number>): string =>
  Object.entries(m)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/**
 * One line, e.g. `calls 41 | bridged 35, 16 talking (shoestring 20, steady-leads 12, best-quotes 3) | screened out 5
 * (dnc_global 4, invalid_caller 1) | no buyer 0 | passed over: busy 36, schedule_closed 36 | settled $285.00 (seller
 * $171.00, platform $114.00)`.
 */
export function formatSummary(s: DemoSummary): string {
  const parts = [
    `calls ${s.calls}`,
    `bridged ${s.bridged}${s.talking > 0 ? `, ${s.talking} talking` : ''}${s.bridged > 0 ? ` (${counts(s.bridgedBy)})` : ''}`,
    `screened out ${s.screenedOut}${s.screenedOut > 0 ? ` (${counts(s.screenReasons)})` : ''}`,
    `no buyer ${s.noBuyer}`,
  ];
  if (Object.keys(s.other).length > 0) parts.push(`other: ${counts(s.other)}`);
  if (Object.keys(s.skipped).length > 0) parts.push(`passed over: ${counts(s.skipped)}`);
  parts.push(`settled ${dollars(s.buyersPaidCents)} (seller ${dollars(s.sellerEarnedCents)}, platform ${dollars(s.platformKeptCents)})`);
  return parts.join(' | ');
}
