/**
 * Calls over HTTP: a filtered, cursor-paginated list, and one call with everything held about it. Admins and
 * agents see every call; a seller sees its campaigns' calls, a buyer the calls offered to it (rung or won). What
 * each sees of them is the role projection (projections.ts): the decision trace (every buyer's bid) is for
 * admins and agents only, a buyer sees the winner and price only of calls it won, a seller no buyer side unless
 * its account may see buyer details.
 */
import { Router as ExpressRouter } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { ApiPrincipal } from '../store/api-keys';
import { requireRole } from './auth';
import { ApiError, fromZod } from './errors';
import type { RouteDoc } from './openapi';
import { cursorParam, decodeTimeCursor, encodeTimeCursor, isoDate, isStorableText, queryInt, text } from './schemas';
import { preparedJsonQuery } from '../store/pg-rows';
import { isOperator, projectAttempts, projectBilling, projectCallRow, projectPostings, type AttemptRow, type BillingRow, type PostingRow } from './projections';
import { viewerOf } from './viewer';

/** The calls list's filters; the CSV export (calls-export-routes.ts) takes the same. */
export const ListQuery = z.object({
  campaignId: text({ max: 100 }).optional(),
  outcome: z.enum(['bridged', 'rejected', 'no_buyer_answered', 'abandoned', 'failed', 'routed']).optional(),
  ani: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be E.164, e.g. +18135551234').optional(),
  from: isoDate().optional(),
  to: isoDate().optional(),
  limit: queryInt(1, 500).default(50),
  cursor: cursorParam().optional(),
});
const IdParam = z.object({ id: text({ max: 100 }) });

export const callsRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/v1/calls', summary: 'Calls, newest first, filtered, a page at a time', roles: ['admin', 'agent', 'seller', 'buyer'], query: ListQuery },
  { method: 'get', path: '/v1/calls/:id', summary: 'One call with attempts, billing and postings (and for operators its trace and fraud scores)', roles: ['admin', 'agent', 'seller', 'buyer'], params: IdParam },
];

/** The cursor is the last row's (started_at, id), so pages stay stable while calls keep arriving. */
export const encodeCursor = encodeTimeCursor;
/** A call id as stored: any text Postgres holds (the flow makes UUIDs; imports and tests may not). */
const CALL_ID = { test: (id: string) => id.length > 0 && id.length <= 200 && isStorableText(id) };
const decodeCursor = (c: string): [string, string] => decodeTimeCursor(c, CALL_ID);

/** SQL condition limiting calls to what the principal may see ($1 is the account id). */
function scope(p: ApiPrincipal): { sql: string; account?: string } {
  if (p.role === 'admin' || p.role === 'agent') return { sql: '$1::text IS NULL' };
  if (p.role === 'seller') return { sql: 'c.seller_account_id = $1', account: p.accountId! };
  return { sql: '(c.winner_buyer_id = $1 OR EXISTS (SELECT 1 FROM bridge_attempts a WHERE a.call_id = c.id AND a.buyer_id = $1))', account: p.accountId! };
}

/** The filters of the calls list (everything but the page size). */
export type CallFilters = Omit<z.infer<typeof ListQuery>, 'limit'>;

/**
 * The calls list's query: the calls the principal may see that match the filters, newest first, after the cursor,
 * `limit` rows. Shared by the list and the CSV export, so both select the same calls.
 */
export function callsListSql(p: ApiPrincipal, f: CallFilters, limit: number): [string, unknown[]] {
  const s = scope(p);
  const params: unknown[] = [s.account ?? null];
  const where = [s.sql];
  const add = (sql: (n: number) => string, v: unknown) => {
    params.push(v);
    where.push(sql(params.length));
  };
  if (f.campaignId) add((n) => `c.campaign_id = $${n}`, f.campaignId);
  if (f.outcome) add((n) => `c.outcome = $${n}`, f.outcome);
  if (f.ani) add((n) => `c.ani = $${n}`, f.ani);
  if (f.from) add((n) => `c.started_at >= $${n}`, f.from);
  if (f.to) add((n) => `c.started_at < $${n}`, f.to);
  if (f.cursor) {
    const [at, id] = decodeCursor(f.cursor);
    params.push(at, id);
    where.push(`(c.started_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length})`);
  }
  params.push(limit);
  return [`SELECT ${CALL_COLUMNS} FROM calls c WHERE ${where.join(' AND ')} ORDER BY c.started_at DESC, c.id DESC LIMIT $${params.length}`, params];
}

/** A call row as the API shows it; timestamps are ISO text (see pg-rows). */
export interface CallRow {
  id: string;
  started_at: string;
  [column: string]: unknown;
}

/** The nested parts of one call, as JSON text. */
interface CallExtras {
  x_trace: string | null;
  x_attempts: string;
  x_fraud: string;
  x_billing: string | null;
  x_postings: string;
}

const CALL_COLUMNS = `c.id, c.direction, c.ani, c.dnis, c.campaign_id, c.seller_account_id, c.outcome, c.reject_reason, c.winner_target_id,
  c.winner_buyer_id, c.price_cents::int AS price_cents, c.started_at, c.decided_at, c.answered_at, c.bridged_at, c.ended_at,
  c.duration_sec, c.billable_sec, c.hangup_cause, c.hung_up_by, c.end_reason, c.switch_name, c.end_is_lower_bound`;

export function callsRoutes(pool: Pool): ExpressRouter {
  const router = ExpressRouter();

  router.get('/v1/calls', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const q = ListQuery.safeParse(req.query);
      if (!q.success) throw fromZod(q.error);
      const f = q.data;
      const { rows } = await pool.query<CallRow>(preparedJsonQuery(...callsListSql(req.principal!, f, f.limit)));
      const last = rows[rows.length - 1];
      const next = rows.length === f.limit && last ? encodeCursor(last.started_at, last.id) : null;
      const viewer = await viewerOf(pool, req.principal!);
      res.type('application/json').send(JSON.stringify({ calls: isOperator(viewer) ? rows : rows.map((r) => projectCallRow(r, viewer)), next }));
    } catch (err) {
      next(err);
    }
  });

  router.get('/v1/calls/:id', requireRole('admin', 'agent', 'seller', 'buyer'), async (req, res, next) => {
    try {
      const p = IdParam.safeParse(req.params);
      if (!p.success) throw fromZod(p.error);
      const principal = req.principal!;
      const s = scope(principal);
      const operator = principal.role === 'admin' || principal.role === 'agent';
      const seesAllAttempts = operator || principal.role === 'seller';
      // The call and everything about it in one prepared statement; the nested parts come back as JSON text
      // and are spliced into the response unparsed (the trace is most of the bytes).
      const { rows } = await pool.query<CallRow & CallExtras>(
        preparedJsonQuery(
          `SELECT ${CALL_COLUMNS},
             (SELECT trace::text FROM call_decisions WHERE call_id = c.id AND $3) AS x_trace,
             (SELECT coalesce(json_agg(a ORDER BY a.attempt_no), '[]')::text FROM (
                SELECT attempt_no, target_id, buyer_id, destination, started_at, ended_at, status, cause FROM bridge_attempts
                WHERE call_id = c.id AND ($4 OR buyer_id = $1)) a) AS x_attempts,
             (SELECT coalesce(json_agg(f ORDER BY f.stage), '[]')::text FROM (
                SELECT stage, score, reasons, action, scored_at FROM fraud_scores WHERE call_id = c.id AND $3) f) AS x_fraud,
             (SELECT row_to_json(b)::text FROM (
                SELECT converted, duplicate, reason, buyer_charge_cents::int AS buyer_charge_cents, seller_payout_cents::int AS seller_payout_cents, billed_at
                FROM call_billing WHERE call_id = c.id) b) AS x_billing,
             (SELECT coalesce(json_agg(json_build_object('kind', t.kind, 'account_id', e.account_id, 'amount_cents', e.amount_cents::int, 'created_at', e.created_at) ORDER BY e.id), '[]')::text
                FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.call_id = c.id AND ($3 OR e.account_id = $1)) AS x_postings
           FROM calls c WHERE ${s.sql} AND c.id = $2`,
          [s.account ?? null, p.data.id, operator, seesAllAttempts],
        ),
      );
      const row = rows[0];
      if (!row) throw new ApiError(404, 'not_found', 'no such call');
      const { x_trace, x_attempts, x_fraud, x_billing, x_postings, ...call } = row;
      if (operator) {
        // Operators see everything: the stored JSON goes out as it is.
        const head = JSON.stringify(call);
        res.type('application/json').send(`${head.slice(0, -1)},"attempts":${x_attempts},"billing":${x_billing ?? 'null'},"postings":${x_postings},"trace":${x_trace ?? 'null'},"fraud":${x_fraud}}`);
        return;
      }
      const viewer = await viewerOf(pool, principal);
      res.json({
        ...projectCallRow(call, viewer),
        attempts: projectAttempts(JSON.parse(x_attempts) as AttemptRow[], viewer),
        billing: projectBilling(x_billing ? (JSON.parse(x_billing) as BillingRow) : null, viewer, call.winner_buyer_id as string | null),
        postings: projectPostings(JSON.parse(x_postings) as PostingRow[], viewer),
      });
    } catch (err) {
      next(err);
    }
  });

  return router;
}
