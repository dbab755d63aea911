/**
 * Reports: calls, bridged calls, conversions, revenue (what buyers paid), payout (what sellers earned) and the
 * margin (money from the calls' ledger postings, refunds included), per campaign, seller or buyer, by minute, hour or day, over a range (UTC buckets). Sellers see their campaigns,
 * buyers the calls they won; admins and agents everything. The money shown is the role projection's
 * (projections.ts): a buyer its spend, a seller its payout (and revenue, and grouping by buyer, only with buyer
 * details), operators the margin too.
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import { mayGroupReportBy, projectReportMoney } from './projections';
import { viewerOf } from './viewer';
import type { RouteDoc } from './openapi';
import { isoDate, spanMs } from './schemas';

const ReportQuery = z
  .object({
    groupBy: z.enum(['campaign', 'seller', 'buyer']).default('campaign'),
    bucket: z.enum(['minute', 'hour', 'day']).default('day'),
    from: isoDate(),
    to: isoDate(),
  })
  .refine((q) => !(spanMs(q) <= 0), { message: 'must be after from', path: ['to'] })
  .refine((q) => !(spanMs(q) > 366 * 86_400_000), { message: 'a report covers at most a year', path: ['to'] })
  // Per-minute buckets are for live views (the dashboard's last hour): a day of them at most.
  .refine((q) => q.bucket !== 'minute' || !(spanMs(q) > 86_400_000), { message: 'a per-minute report covers at most a day', path: ['to'] });

/** One report row: the bucket, the group's key under the grouping's name, and the figures the role sees (integer cents). */
const ReportRow = z.object({
  bucket: z.string(),
  campaign: z.string().nullable().optional(),
  seller: z.string().nullable().optional(),
  buyer: z.string().nullable().optional(),
  calls: z.number().int(),
  bridged: z.number().int(),
  conversions: z.number().int(),
  revenueCents: z.number().int().optional(),
  payoutCents: z.number().int().optional(),
  marginCents: z.number().int().optional(),
}).meta({ id: 'ReportRow' });
const ReportResource = z.object({ groupBy: z.enum(['campaign', 'seller', 'buyer']), bucket: z.enum(['minute', 'hour', 'day']), from: z.string(), to: z.string(), rows: z.array(ReportRow) });

const GROUP_COLUMN = { campaign: 'c.campaign_id', seller: 'c.seller_account_id', buyer: 'c.winner_buyer_id' } as const;

export const reportRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/reports/calls', summary: 'Calls, conversions, revenue, payout and margin per campaign, seller or buyer, by minute, hour or day', roles: ['admin', 'agent', 'seller', 'buyer'], query: ReportQuery, response: ReportResource },
];

export function reportRoutes(pool: Pool): ExpressRouter {
  const router = ExpressRouter();
  router.get('/v1/reports/calls', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const q = ReportQuery.safeParse(req.query);
      if (!q.success) throw fromZod(q.error);
      const p = req.principal!;
      const viewer = await viewerOf(pool, p);
      if (!mayGroupReportBy(q.data.groupBy, viewer)) throw new ApiError(403, 'forbidden', 'this account does not see buyer details: group by campaign or seller', 'groupBy');
      const scope = p.role === 'seller' ? 'c.seller_account_id = $4' : p.role === 'buyer' ? 'c.winner_buyer_id = $4' : '$4::text IS NULL';
      const { rows } = await pool.query(
        `SELECT date_trunc($1, c.started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, ${GROUP_COLUMN[q.data.groupBy]} AS key,
                count(*)::int AS calls,
                count(*) FILTER (WHERE c.bridged_at IS NOT NULL)::int AS bridged,
                count(*) FILTER (WHERE b.converted)::int AS conversions,
                coalesce(sum(l.revenue), 0)::bigint AS revenue_cents,
                coalesce(sum(l.payout), 0)::bigint AS payout_cents
         FROM calls c LEFT JOIN call_billing b ON b.call_id = c.id
         -- The money is the ledger's: what the call's postings (its charge, and any refund of it) took from its buyer
         -- and gave its seller, so a report always agrees with balances, ledgers and invoices.
         LEFT JOIN LATERAL (
           SELECT sum(-e.amount_cents) FILTER (WHERE e.account_id = c.winner_buyer_id) AS revenue,
                  sum(e.amount_cents) FILTER (WHERE e.account_id = c.seller_account_id) AS payout
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
           WHERE t.call_id = c.id AND t.kind IN ('call', 'refund')) l ON true
         WHERE c.started_at >= $2 AND c.started_at < $3 AND ${scope}
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [q.data.bucket, q.data.from, q.data.to, p.role === 'seller' || p.role === 'buyer' ? p.accountId : null],
      );
      res.json({
        groupBy: q.data.groupBy,
        bucket: q.data.bucket,
        from: q.data.from,
        to: q.data.to,
        rows: rows.map((r) => {
          const revenue = Number(r.revenue_cents);
          const payout = Number(r.payout_cents);
          return { bucket: r.bucket, [q.data.groupBy]: r.key, ...projectReportMoney({ calls: r.calls, bridged: r.bridged, conversions: r.conversions, revenueCents: revenue, payoutCents: payout }, viewer) };
        }),
      });
    } catch (err) {
      next(err);
    }
  });
  return router;
}
